import { LruMap } from "@leangraph/serde";
import type { BuiltNode } from "./tree-node.js";
import { matchesSnapshot, type ObjectSnapshot } from "./unchanged-object.js";

/**
 * What earlier encodes left, per channel (the reuse key), so the next encode of that channel
 * skips what did not change. Appending one element to a 1,000-element array of 200 KB strings
 * must not re-serialize and re-hash 200 MB each step, so elements that are the very same
 * primitive at the same index (or under the same key) reuse their entry. An object reuses its
 * entry only while it still matches the snapshot taken when it was serialized: it may have been
 * mutated in place, and a stale copy would be silent data loss.
 */

/** What the last encode of an array channel stored per element, by index. */
export interface PreviousArrayEncode {
  elements: unknown[];
  entries: Uint8Array[];
  itemIds: (string | undefined)[];
  /** Blobs each entry's bytes reference. */
  entryBlobIds: (readonly string[])[];
  /** Objects whose entry may be reused while they still match (see unchanged-object.ts). */
  snapshots: (ObjectSnapshot | undefined)[];
  /** Tree nodes of that encode: the closed ones come back byte for byte and need no insert. */
  nodeIds: Set<string>;
  nodes: BuiltNode[];
}

/** What the last encode of an object or Map channel stored per entry, by key identity. */
export interface PreviousKeyedEntry {
  value: unknown;
  entry: Uint8Array;
  itemId: string | undefined;
  blobIds: readonly string[];
  snapshot: ObjectSnapshot | undefined;
}

export interface PreviousKeyedEncode {
  byKey: Map<string, PreviousKeyedEntry>;
  /** Leaf holding each key's entry in that encode (what a reused inline entry's blobs rely on). */
  leafOfKey: Map<string, string>;
  entries: Uint8Array[];
  nodeIds: Set<string>;
  nodes: BuiltNode[];
}

/** Channels remembered at once; the least recently encoded is forgotten first. */
const maxRememberedEncodes = 256;

export class ReuseMemory {
  // Reads peek (an encode is "used" when it is remembered again, as before the LRU was shared).
  readonly #encodes = new LruMap<string, PreviousArrayEncode | PreviousKeyedEncode>({
    maxWeight: maxRememberedEncodes,
  });

  previousArray(reuseKey: string | undefined): PreviousArrayEncode | undefined {
    const remembered = reuseKey === undefined ? undefined : this.#encodes.peek(reuseKey);
    return remembered !== undefined && "elements" in remembered ? remembered : undefined;
  }

  previousKeyed(reuseKey: string | undefined): PreviousKeyedEncode | undefined {
    const remembered = reuseKey === undefined ? undefined : this.#encodes.peek(reuseKey);
    return remembered !== undefined && "byKey" in remembered ? remembered : undefined;
  }

  remember(reuseKey: string, encode: PreviousArrayEncode | PreviousKeyedEncode): void {
    this.#encodes.set(reuseKey, encode);
  }

  forget(): void {
    this.#encodes.clear();
  }
}

/** Primitives compare by value with ===, so an equal element needs no new serialization or hash. */
function isReusablePrimitive(value: unknown): boolean {
  const type = typeof value;
  return type === "string" || type === "boolean" || (type === "number" && !Number.isNaN(value));
}

/**
 * Whether `value` is exactly what was stored before as `previousValue` (the very same primitive,
 * or the same object still matching its snapshot), so its stored entry may be reused.
 */
export function unchangedSince(
  previousValue: unknown,
  value: unknown,
  snapshot: ObjectSnapshot | undefined,
): boolean {
  if (previousValue !== value) return false;
  return isReusablePrimitive(value) || (snapshot !== undefined && matchesSnapshot(value, snapshot));
}

/** The leaf of a build that holds each entry, by entry index. */
export function leafOfEntry(
  nodes: readonly BuiltNode[],
  entryCount: number,
): (string | undefined)[] {
  const leaves = new Array<string | undefined>(entryCount);
  for (const node of nodes) {
    if (node.kind !== "leaf" || node.firstEntry === undefined || node.entryCount === undefined)
      continue;
    for (let offset = 0; offset < node.entryCount; offset += 1)
      leaves[node.firstEntry + offset] = node.id;
  }
  return leaves;
}
