import { UnserializableError } from "@leangraph/serde";
import { encodeArray, isPlainArray } from "./array-encode.js";
import type { EncodedValue } from "./encoded-value.js";
import type { PreviousKeyedEntry } from "./reuse-memory.js";
import { unchangedSince } from "./reuse-memory.js";
import {
  addTreeNodes,
  type EncodeContext,
  EncodedParts,
  noBlobIds,
  placeValue,
  serializeEntries,
  unionOf,
} from "./tree-encode.js";
import { buildTree, contentBoundaries, type EntryKey, encodeKeyedEntry } from "./tree-node.js";
import { rootItemIds, treeRef } from "./value-ref.js";

/** An object's or Map's entries, with what identifies each key across encodes. */
export interface KeyedValue {
  kind: "o" | "m";
  entries: { identity: string | undefined; key: unknown; value: unknown }[];
}

/**
 * The entries of a plain object or Map stored as a keyed tree, or undefined for any other
 * value. Only values whose serialized form is exactly their entries qualify: no toJSON, no
 * `lc` key (JsonPlus revives `{ lc, type, … }` objects as LangChain or lc:2 records), and at
 * least `minimum` entries.
 */
export function keyedEntriesOf(value: unknown, minimum: number): KeyedValue | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const prototype = Object.getPrototypeOf(value);
  if (value instanceof Map) {
    if (prototype !== Map.prototype || value.size < minimum) return undefined;
    return {
      kind: "m",
      entries: Array.from(value, ([key, entryValue]) => ({
        // Primitive keys are recognized across encodes; object keys are serialized every time.
        identity:
          typeof key === "object" && key !== null ? undefined : `${typeof key}:${String(key)}`,
        key,
        value: entryValue,
      })),
    };
  }
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return undefined;
  const keys = Object.keys(value);
  if (keys.length < minimum || Object.hasOwn(value, "lc")) return undefined;
  return {
    kind: "o",
    entries: keys.map((key) => ({
      identity: key,
      key,
      value: (value as Record<string, unknown>)[key],
    })),
  };
}

/**
 * Entries per keyed leaf on average. A state that gains one key per step (files by path) used to
 * rewrite its whole last leaf every checkpoint, which favoured small leaves (8). Now that an open
 * tail is stored as power-of-two segments (buildTree), an append writes one segment and larger
 * leaves mean fewer ids in the inner nodes above: real code files in a Record<path, text>, 200
 * files, compression on, 1.29 MB at 8 -> 1.27 MB at 16 (32: 1.30 MB, 4: 1.33 MB).
 */
const keyedLeafAverageEntries = 16;

/** A key's hash for content-defined leaf boundaries: stable across processes, cheap. */
function hashOfKey(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/**
 * An object or Map as a tree of keyed entries, leaves closing where a key's hash says (so an
 * inserted or deleted key changes only the nodes around it). Unchanged entries (the same
 * primitive, or an object still matching its snapshot) are reused from the last encode of the
 * channel without serializing; a nested object, Map or array that qualifies is a tree of its
 * own, reused the same way.
 */
export async function encodeKeyed(
  context: EncodeContext,
  keyed: KeyedValue,
  reuseKey: string | undefined,
): Promise<EncodedValue> {
  const previous = context.memory.previousKeyed(reuseKey);
  const count = keyed.entries.length;
  const parts = new EncodedParts();
  const entries: Uint8Array[] = new Array(count);
  const inlineBlobIds: (readonly string[])[] = new Array(count).fill(noBlobIds);
  const records: (PreviousKeyedEntry | undefined)[] = new Array(count);
  const keys: EntryKey[] = new Array(count);
  /** Where an entry is in errors: its object key, or its position in a Map. */
  const stepOf = (index: number) =>
    keyed.kind === "o" ? (keyed.entries[index]!.key as string) : index;

  // Keys: object keys are their UTF-8; Map keys are serialized values.
  const mapKeyPositions: number[] = [];
  for (const [index, { key }] of keyed.entries.entries()) {
    if (keyed.kind === "o") keys[index] = { type: "", bytes: Buffer.from(key as string, "utf8") };
    else mapKeyPositions.push(index);
  }
  if (mapKeyPositions.length > 0) {
    const preparedKeys = await serializeEntries(
      context,
      parts,
      mapKeyPositions.map((index) => keyed.entries[index]!.key),
      false,
      (position) => mapKeyPositions[position],
    );
    mapKeyPositions.forEach((index, position) => {
      const key = preparedKeys[position]!;
      keys[index] = { type: key.type, bytes: key.bytes };
      inlineBlobIds[index] = key.blobIds;
    });
  }

  const toSerialize: number[] = [];
  for (const [index, { identity, value }] of keyed.entries.entries()) {
    const before = identity === undefined ? undefined : previous?.byKey.get(identity);
    if (
      before !== undefined &&
      unchangedSince(before.value, value, before.snapshot) &&
      inlineBlobIds[index]!.length === 0
    ) {
      entries[index] = before.entry;
      records[index] = before;
      if (before.itemId !== undefined) parts.reuse(before.itemId);
      else if (before.blobIds.length > 0) {
        inlineBlobIds[index] = before.blobIds;
        // Its blobs stay alive through the leaf it came from (checked at commit).
        const sourceLeaf = previous!.leafOfKey.get(identity!);
        if (sourceLeaf !== undefined) parts.reuse(sourceLeaf);
      }
      continue;
    }
    const nested =
      isPlainArray(value) && value.length > 0
        ? "array"
        : keyedEntriesOf(value, context.options.keyedTreeMinEntries);
    if (nested !== undefined) {
      const nestedKey =
        reuseKey === undefined || identity === undefined ? undefined : `${reuseKey}\0${identity}`;
      let encoded: EncodedValue;
      try {
        encoded =
          nested === "array"
            ? await encodeArray(context, value as unknown[], nestedKey)
            : await encodeKeyed(context, nested, nestedKey);
      } catch (error) {
        if (error instanceof UnserializableError) error.prepend(stepOf(index));
        throw error;
      }
      parts.absorb(encoded);
      entries[index] = encodeKeyedEntry({
        kind: "tree",
        key: keys[index]!,
        refJson: JSON.stringify(encoded.ref),
        rootIds: rootItemIds(encoded.ref),
      });
      continue;
    }
    toSerialize.push(index);
  }

  const prepared = await serializeEntries(
    context,
    parts,
    toSerialize.map((index) => keyed.entries[index]!.value),
    reuseKey !== undefined,
    (position) => {
      const index = toSerialize[position];
      return index === undefined ? undefined : stepOf(index);
    },
  );
  toSerialize.forEach((index, position) => {
    const value = prepared[position]!;
    const placed = placeValue(context, parts, value);
    entries[index] = encodeKeyedEntry({ ...placed, key: keys[index]! });
    if (placed.kind === "inline")
      inlineBlobIds[index] = unionOf([inlineBlobIds[index]!, value.blobIds]);
    records[index] = {
      value: keyed.entries[index]!.value,
      entry: entries[index]!,
      itemId: placed.kind === "item" ? placed.itemId : undefined,
      blobIds: placed.kind === "item" ? noBlobIds : value.blobIds,
      snapshot: value.snapshot,
    };
  });

  const keyHashes = keys.map((key) => hashOfKey(key.bytes));
  const tree = buildTree(
    entries,
    context.options.tree,
    previous,
    contentBoundaries(keyHashes, keyedLeafAverageEntries),
    context.ids,
  );
  addTreeNodes(parts, tree.nodes, previous?.nodeIds, (leaf) => {
    const first = leaf.firstEntry ?? 0;
    return unionOf(inlineBlobIds.slice(first, first + (leaf.entryCount ?? 0)));
  });
  if (reuseKey !== undefined) {
    const leafOfKey = new Map<string, string>();
    for (const node of tree.nodes) {
      if (node.kind !== "leaf" || node.firstEntry === undefined) continue;
      for (let offset = 0; offset < (node.entryCount ?? 0); offset += 1) {
        const identity = keyed.entries[node.firstEntry + offset]!.identity;
        if (identity !== undefined) leafOfKey.set(identity, node.id);
      }
    }
    const byKey = new Map<string, PreviousKeyedEntry>();
    keyed.entries.forEach(({ identity }, index) => {
      const record = records[index];
      if (identity !== undefined && record !== undefined) byKey.set(identity, record);
    });
    context.memory.remember(reuseKey, {
      byKey,
      leafOfKey,
      entries,
      nodeIds: new Set(tree.nodes.map((node) => node.id)),
      nodes: tree.nodes,
    });
  }
  return parts.finish(treeRef(keyed.kind === "o" ? "object" : "Map", tree.rootId, count));
}
