/**
 * Makes a JSON-ready tree fit a byte budget by externalizing its largest parts: first the largest
 * strings (content-addressed, so they dedupe across checkpoints), then the largest containers.
 * Only the slow path runs this; sizes are estimates (UTF-16 units for strings), which is why the
 * caller measures the real payload afterwards and calls again with a tighter target if needed.
 */
import { isReservedString, parseReservedString, referenceJsonBytes } from "../reference-format.js";
import { BlobSlot } from "./blob-slot.js";
import { type EncodeContext, stringSlot } from "./encode-value.js";

interface Part {
  holder: Record<string | number, unknown>;
  key: string | number;
  bytes: number;
  /** Index of the enclosing container part, -1 at the top. */
  parent: number;
  externalized: boolean;
}

interface Parts {
  strings: Part[];
  containers: Part[];
}

/** Estimated JSON size of `holder[key]`, listing the parts that could be externalized. */
function measure(
  holder: Record<string | number, unknown>,
  key: string | number,
  parent: number,
  parts: Parts,
): number {
  const node = holder[key];
  if (typeof node === "string") {
    const bytes = node.length + 2;
    if (bytes > referenceJsonBytes * 2) {
      parts.strings.push({ holder, key, bytes, parent, externalized: false });
    }
    return bytes;
  }
  if (typeof node !== "object" || node === null) return 8;
  if (node instanceof BlobSlot) return referenceJsonBytes;
  const index = parts.containers.length;
  const part: Part = { holder, key, bytes: 0, parent, externalized: false };
  parts.containers.push(part);
  let bytes = 2;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      bytes += measure(node as unknown as Record<number, unknown>, i, index, parts) + 1;
    }
  } else {
    for (const childKey of Object.keys(node)) {
      bytes +=
        childKey.length + 4 + measure(node as Record<string, unknown>, childKey, index, parts);
    }
  }
  part.bytes = bytes;
  return bytes;
}

function insideExternalized(part: Part, containers: Part[]): boolean {
  for (let index = part.parent; index >= 0; index = containers[index]!.parent) {
    if (containers[index]!.externalized) return true;
  }
  return false;
}

/**
 * Externalizes parts of `holder[key]` (never `holder[key]` itself) until its estimated size is at
 * most `targetBytes`. Returns the estimated size afterwards.
 */
export function fitToBudget(
  holder: Record<string | number, unknown>,
  key: string | number,
  targetBytes: number,
  context: EncodeContext,
): number {
  const parts: Parts = { strings: [], containers: [] };
  const total = measure(holder, key, -1, parts);
  let excess = total - targetBytes;
  if (excess <= 0) return total;

  parts.strings.sort((a, b) => b.bytes - a.bytes);
  for (const part of parts.strings) {
    if (excess <= 0) break;
    const inline = part.holder[part.key] as string;
    // An escaped look-alike goes to the blob as the user wrote it; the blob is raw data.
    const original = isReservedString(inline)
      ? (parseReservedString(inline) as { value: string }).value
      : inline;
    const slot = stringSlot(original, context);
    context.slots.push(slot);
    part.holder[part.key] = slot;
    part.externalized = true;
    excess -= part.bytes - referenceJsonBytes;
  }
  if (excess <= 0) return targetBytes + excess;

  // The unit root (index 0) stays: the caller decides what to do when even that is not enough.
  const containers = parts.containers.slice(1).sort((a, b) => b.bytes - a.bytes);
  for (const part of containers) {
    if (excess <= 0) break;
    if (part.bytes <= referenceJsonBytes * 2 || insideExternalized(part, parts.containers))
      continue;
    const slot = new BlobSlot({ type: "tree", value: part.holder[part.key] }, "j");
    context.slots.push(slot);
    part.holder[part.key] = slot;
    part.externalized = true;
    excess -= part.bytes - referenceJsonBytes;
  }
  return targetBytes + excess;
}

/** Estimated JSON size, for choosing between a single JSON blob and a streamed one. */
export function estimateJsonBytes(node: unknown): number {
  return measure({ node }, "node", -1, { strings: [], containers: [] });
}
