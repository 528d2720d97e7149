import type { EncodedValue } from "./encoded-value.js";
import { leafOfEntry, unchangedSince } from "./reuse-memory.js";
import {
  addTreeNodes,
  type EncodeContext,
  EncodedParts,
  placeValue,
  serializeEntries,
  unionOf,
} from "./tree-encode.js";
import { type BuiltNode, buildTree, encodeEntry } from "./tree-node.js";
import type { ObjectSnapshot } from "./unchanged-object.js";
import { treeRef } from "./value-ref.js";

export function isPlainArray(value: unknown): value is unknown[] {
  return Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype;
}

/**
 * An array as a tree of element entries, packed greedily from the start so an append rewrites
 * only the open tail of each level. Elements unchanged since the last encode of the channel (by
 * index) reuse their entry without serializing.
 */
export async function encodeArray(
  context: EncodeContext,
  array: unknown[],
  reuseKey: string | undefined,
): Promise<EncodedValue> {
  const previous = context.memory.previousArray(reuseKey);
  const previousLeaves =
    previous === undefined ? [] : leafOfEntry(previous.nodes, previous.entries.length);
  const parts = new EncodedParts();
  const entries: Uint8Array[] = new Array(array.length);
  const itemIds: (string | undefined)[] = new Array(array.length);
  const entryBlobIds: (readonly string[])[] = new Array(array.length);
  const snapshots: (ObjectSnapshot | undefined)[] = new Array(array.length);
  const toSerialize: number[] = [];
  for (let index = 0; index < array.length; index += 1) {
    // Holes and undefined become null, exactly as JSON.stringify of the whole array would.
    const element = array[index] === undefined ? null : array[index];
    if (
      previous !== undefined &&
      index < previous.elements.length &&
      unchangedSince(previous.elements[index], element, previous.snapshots[index])
    ) {
      entries[index] = previous.entries[index]!;
      itemIds[index] = previous.itemIds[index];
      entryBlobIds[index] = previous.entryBlobIds[index]!;
      snapshots[index] = previous.snapshots[index];
      const reusedId = previous.itemIds[index];
      if (reusedId !== undefined) parts.reuse(reusedId);
      // The blobs an inline entry names stay alive only while some row names them: the
      // leaf it came from is checked to still exist when the new leaf is committed.
      else if (entryBlobIds[index]!.length > 0) {
        const sourceLeaf = previousLeaves[index];
        if (sourceLeaf !== undefined) parts.reuse(sourceLeaf);
      }
      continue;
    }
    toSerialize.push(index);
  }
  const prepared = await serializeEntries(
    context,
    parts,
    toSerialize.map((index) => array[index] ?? null),
    reuseKey !== undefined,
    (position) => toSerialize[position],
  );
  toSerialize.forEach((index, position) => {
    const value = prepared[position]!;
    entryBlobIds[index] = value.blobIds;
    snapshots[index] = value.snapshot;
    const placed = placeValue(context, parts, value);
    if (placed.kind === "item") itemIds[index] = placed.itemId;
    entries[index] = encodeEntry(placed);
  });
  const tree = buildTree(entries, context.options.tree, previous, undefined, context.ids);
  // A leaf names what its inline entries name (item entries are named by their own rows).
  addTreeNodes(parts, tree.nodes, previous?.nodeIds, (leaf: BuiltNode) => {
    const first = leaf.firstEntry ?? 0;
    const lists: (readonly string[])[] = [];
    for (let index = first; index < first + (leaf.entryCount ?? 0); index += 1)
      if (itemIds[index] === undefined) lists.push(entryBlobIds[index]!);
    return unionOf(lists);
  });
  if (reuseKey !== undefined) {
    context.memory.remember(reuseKey, {
      elements: array.slice(),
      entries,
      itemIds,
      entryBlobIds,
      snapshots,
      nodeIds: new Set(tree.nodes.map((node) => node.id)),
      nodes: tree.nodes,
    });
  }
  return parts.finish(treeRef("array", tree.rootId, array.length));
}
