import type { ContentIds, PreparedPayload } from "@leangraph/serde";
import type { ValueCodecOptions } from "./codec-options.js";
import type { EncodedValue, NewItem } from "./encoded-value.js";
import {
  type PayloadPreparer,
  type PreparedValue,
  rebaseUnserializable,
} from "./payload-preparer.js";
import type { ReuseMemory } from "./reuse-memory.js";
import type { BuiltNode } from "./tree-node.js";
import type { ValueRef } from "./value-ref.js";

/**
 * The steps every tree encode (arrays, objects, Maps) shares: gathering what it writes and what
 * it reuses, serializing the entries that changed, placing each inline or as an item of its own,
 * and adding the tree's nodes.
 */

/** What an encoder needs from the codec. */
export interface EncodeContext {
  options: ValueCodecOptions;
  preparer: PayloadPreparer;
  memory: ReuseMemory;
  /** How items are named: sha256, or keyed once the saver's key ring is resolved (encryption). */
  ids: ContentIds;
}

export const noBlobIds: readonly string[] = Object.freeze([]);

export function unionOf(lists: Iterable<readonly string[]>): readonly string[] {
  let union: Set<string> | undefined;
  for (const list of lists) {
    if (list.length === 0) continue;
    union ??= new Set();
    for (const id of list) union.add(id);
  }
  return union === undefined ? noBlobIds : [...union];
}

/** A serialized value as one item of its own; big ones go to the blob store. */
export function valueItem(
  options: ValueCodecOptions,
  ids: ContentIds,
  bytes: Uint8Array,
  blobRefs: readonly string[],
): NewItem {
  return {
    id: ids.of(bytes),
    kind: "value",
    bytes,
    inBlobStore: bytes.byteLength >= options.blobMinBytes,
    blobRefs,
  };
}

/** The items an encode writes, the items it points at without writing, the blobs to write. */
export class EncodedParts {
  readonly items = new Map<string, NewItem>();
  readonly reusedItemIds = new Set<string>();
  readonly toWrite: PreparedPayload[] = [];

  add(item: NewItem): void {
    this.items.set(item.id, item);
  }

  /** An item this encode names but does not carry: the commit checks it still exists. */
  reuse(itemId: string): void {
    this.reusedItemIds.add(itemId);
  }

  /** A nested tree's parts become this encode's. */
  absorb(encoded: EncodedValue): void {
    for (const item of encoded.items) this.add(item);
    for (const id of encoded.reusedItemIds) this.reuse(id);
    this.toWrite.push(...encoded.toWrite);
  }

  finish(ref: ValueRef): EncodedValue {
    // An item written by this encode needs no existence check.
    for (const id of this.items.keys()) this.reusedItemIds.delete(id);
    return {
      ref,
      items: [...this.items.values()],
      reusedItemIds: [...this.reusedItemIds],
      toWrite: this.toWrite,
    };
  }
}

/**
 * Serializes `values` in one preparer call; an unserializable one is refused with its path
 * rebased onto `stepOf(position)` (its index or key in the tree's value).
 */
export async function serializeEntries(
  context: EncodeContext,
  parts: EncodedParts,
  values: readonly unknown[],
  takeSnapshots: boolean,
  stepOf: (position: number) => string | number | undefined,
): Promise<PreparedValue[]> {
  try {
    const result = await context.preparer.prepare(values, takeSnapshots);
    parts.toWrite.push(...result.toWrite);
    return result.values;
  } catch (error) {
    const position = (error as { path?: unknown[] }).path?.[0];
    throw rebaseUnserializable(error, typeof position === "number" ? stepOf(position) : undefined);
  }
}

const quote = 0x22;
const backslash = 0x5c;

/**
 * A serialized JSON string literal's text as plain UTF-8 when its JSON escapes something, or
 * undefined for anything else: what a text item stores (tree-node.ts). Text with lone surrogates has no UTF-8 form and stays JSON;
 * bytes that reference blobs stay as the serializer wrote them.
 */
export function textOfJsonString(value: PreparedValue): Uint8Array | undefined {
  const { type, bytes, blobIds } = value;
  if (type !== "json" || blobIds.length > 0 || bytes.byteLength < 2) return undefined;
  if (bytes[0] !== quote || bytes[bytes.byteLength - 1] !== quote) return undefined;
  // Every JSON escape starts with a backslash. Without one, the JSON is the text and two quotes:
  // it stays as it is, and reading it back costs nothing extra (the append workload's strings).
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(backslash) === -1)
    return undefined;
  let text: unknown;
  try {
    text = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
  } catch {
    return undefined;
  }
  if (typeof text !== "string") return undefined;
  const utf8 = Buffer.from(text, "utf8");
  return utf8.toString("utf8") === text ? utf8 : undefined;
}

/** A value above the stored-once size as its item: a JSON string's text, or its serialized bytes. */
export function storedOnceItem(
  context: Pick<EncodeContext, "options" | "ids">,
  value: PreparedValue,
): { item: NewItem; text: boolean } {
  const { options, ids } = context;
  const text = textOfJsonString(value);
  return text === undefined
    ? { item: valueItem(options, ids, value.bytes, value.blobIds), text: false }
    : { item: valueItem(options, ids, text, noBlobIds), text: true };
}

/** Where one serialized entry's bytes live: inside its leaf, or (stored once) an item of its own. */
export type PlacedValue =
  | { kind: "inline"; type: string; bytes: Uint8Array }
  | { kind: "item"; type: string; itemId: string; text: boolean };

export function placeValue(
  context: EncodeContext,
  parts: EncodedParts,
  value: PreparedValue,
): PlacedValue {
  const { type, bytes } = value;
  if (bytes.byteLength <= context.options.inlineElementMaxBytes)
    return { kind: "inline", type, bytes };
  const { item, text } = storedOnceItem(context, value);
  parts.add(item);
  return { kind: "item", type, itemId: item.id, text };
}

/**
 * Adds a built tree's nodes: one unchanged since the previous encode of the channel is only
 * checked to still exist; a new leaf names the blobs its inline entries reference (inner nodes
 * hold only child ids).
 */
export function addTreeNodes(
  parts: EncodedParts,
  nodes: readonly BuiltNode[],
  previousNodeIds: ReadonlySet<string> | undefined,
  inlineBlobIdsOfLeaf: (leaf: BuiltNode) => readonly string[],
): void {
  for (const node of nodes) {
    if (previousNodeIds?.has(node.id)) {
      parts.reuse(node.id);
      continue;
    }
    parts.add({
      id: node.id,
      kind: node.kind,
      bytes: node.bytes,
      inBlobStore: false,
      blobRefs: node.kind === "leaf" ? inlineBlobIdsOfLeaf(node) : noBlobIds,
    });
  }
}
