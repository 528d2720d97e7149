import { type ContentIds, decodeBody, sha256ContentIds, sha256Hex } from "@leangraph/serde";
import { rowCorruptError, typeTagTooLongError } from "../errors.js";
import { nestedTreeRootIds } from "./value-ref.js";

/**
 * Binary format of the nodes that store a channel's array, object or Map value as a tree of
 * content-addressed chunks. A node's id is the sha256 of its bytes, so an unchanged chunk is the
 * same row in every checkpoint that contains it: appending to an array rewrites only the open tail
 * of each level, changing one key of an object only its leaf and the path to the root.
 *
 * Leaf node:  'L' then entries. An array's entry is one element, either inline bytes or a
 *             reference to an item (its own row, or a blob) when the serialized element is large.
 *             An object's or Map's entry is keyed: the key (a UTF-8 object key, or a Map key as
 *             serializer bytes), then the value inline, as an item, or as a tree of its own (a
 *             large object, Map or array nested in the value: a ValueRef as JSON).
 * Inner node: 'I' then 32-byte child node ids.
 *
 * A "text" item entry (kinds 6 and 7) names an item whose body is a JSON string's text as plain
 * UTF-8, not its JSON: code and prose in state are stored at their own size, without the escaping
 * of every newline and quote (8% of real code files), and their id is the hash of the text itself.
 * The entry's type is still the serializer's ("json"); decode hands it JSON again.
 *
 * The format is ours (not JSON): user data is carried as opaque serializer bytes, so nothing a user
 * stores can ever be mistaken for a reference.
 *
 * A node's row may hold these bytes in a stored body form (@leangraph/serde body-format: a
 * compressed leaf, see core/write/commit.ts); the id is always the hash of the plain bytes, and
 * decodeNode accepts either form. Plain nodes start with 'L' or 'I', never the body magic.
 */
export type ArrayEntry =
  | { kind: "inline"; type: string; bytes: Uint8Array }
  | { kind: "item"; type: string; itemId: string; text?: boolean };

/** An object key (`type` "") or a Map key (serializer type and bytes). */
export interface EntryKey {
  type: string;
  bytes: Uint8Array;
}

/** The value of a keyed entry, or an element: a nested tree is a ValueRef (as JSON bytes). */
export type KeyedEntry =
  | { kind: "inline"; key: EntryKey; type: string; bytes: Uint8Array }
  | { kind: "item"; key: EntryKey; type: string; itemId: string; text?: boolean }
  | { kind: "tree"; key: EntryKey; refJson: string; rootIds: string[] };

export type TreeEntry = ArrayEntry | KeyedEntry;

const leafTag = 0x4c; // 'L'
const innerTag = 0x49; // 'I'
const inlineEntry = 1;
const itemEntry = 2;
const keyedInlineEntry = 3;
const keyedItemEntry = 4;
const keyedTreeEntry = 5;
const textItemEntry = 6;
const keyedTextItemEntry = 7;
const idBytes = 32;

// Ids are the blob store's: one definition of "the sha256 hex of these bytes" (@leangraph/serde).
export { sha256Hex };

/** Encodes one element's entry; the bytes are what leaves concatenate (and what gets hashed). */
export function encodeEntry(entry: ArrayEntry): Uint8Array {
  const type = Buffer.from(entry.type, "utf8");
  if (type.byteLength > 255) throw typeTagTooLongError(entry.type, type.byteLength);
  if (entry.kind === "inline") {
    const out = Buffer.allocUnsafe(2 + type.byteLength + 4 + entry.bytes.byteLength);
    out[0] = inlineEntry;
    out[1] = type.byteLength;
    type.copy(out, 2);
    out.writeUInt32BE(entry.bytes.byteLength, 2 + type.byteLength);
    out.set(entry.bytes, 6 + type.byteLength);
    return out;
  }
  const out = Buffer.allocUnsafe(2 + type.byteLength + idBytes);
  out[0] = entry.text === true ? textItemEntry : itemEntry;
  out[1] = type.byteLength;
  type.copy(out, 2);
  Buffer.from(entry.itemId, "hex").copy(out, 2 + type.byteLength);
  return out;
}

function lengthPrefixed(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.byteLength);
  out.writeUInt32BE(bytes.byteLength, 0);
  out.set(bytes, 4);
  return out;
}

function shortString(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.byteLength > 255) throw typeTagTooLongError(text, bytes.byteLength);
  return Buffer.concat([Buffer.of(bytes.byteLength), bytes]);
}

/** Encodes one keyed entry (object or Map); leaves concatenate these like array entries. */
export function encodeKeyedEntry(entry: KeyedEntry): Uint8Array {
  const key = [shortString(entry.key.type), lengthPrefixed(entry.key.bytes)];
  switch (entry.kind) {
    case "inline":
      return Buffer.concat([
        Buffer.of(keyedInlineEntry),
        shortString(entry.type),
        ...key,
        lengthPrefixed(entry.bytes),
      ]);
    case "item":
      return Buffer.concat([
        Buffer.of(entry.text === true ? keyedTextItemEntry : keyedItemEntry),
        shortString(entry.type),
        ...key,
        Buffer.from(entry.itemId, "hex"),
      ]);
    case "tree":
      return Buffer.concat([
        Buffer.of(keyedTreeEntry),
        shortString(""),
        ...key,
        lengthPrefixed(Buffer.from(entry.refJson, "utf8")),
      ]);
  }
}

export function encodeLeaf(entries: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat([Buffer.of(leafTag), ...entries]);
}

export function encodeInner(childIds: readonly string[]): Uint8Array {
  return Buffer.concat([Buffer.of(innerTag), ...childIds.map((id) => Buffer.from(id, "hex"))]);
}

export type DecodedNode =
  | { kind: "leaf"; entries: TreeEntry[] }
  | { kind: "inner"; childIds: string[] };

/** Reads a nested tree's root ids from its ref JSON (what a keyed tree entry points at). */
export type RootIdsOfRef = (refJson: string) => string[];

export function decodeNode(
  nodeId: string,
  bytes: Uint8Array,
  rootIdsOfRef: RootIdsOfRef = nestedTreeRootIds,
): DecodedNode {
  try {
    const plain = decodeBody(bytes, `tree node ${nodeId}`);
    const buffer = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
    if (buffer[0] === innerTag) {
      if ((buffer.byteLength - 1) % idBytes !== 0) throw new Error("inner node length");
      const childIds: string[] = [];
      for (let offset = 1; offset < buffer.byteLength; offset += idBytes) {
        childIds.push(buffer.toString("hex", offset, offset + idBytes));
      }
      return { kind: "inner", childIds };
    }
    if (buffer[0] !== leafTag) throw new Error("unknown node tag");
    const entries: TreeEntry[] = [];
    let offset = 1;
    const lengthPrefixedAt = () => {
      const length = buffer.readUInt32BE(offset);
      offset += 4;
      if (offset + length > buffer.byteLength) throw new Error("truncated entry");
      const bytes = buffer.subarray(offset, offset + length);
      offset += length;
      return bytes;
    };
    while (offset < buffer.byteLength) {
      const kind = buffer[offset]!;
      const typeLength = buffer[offset + 1]!;
      const type = buffer.toString("utf8", offset + 2, offset + 2 + typeLength);
      offset += 2 + typeLength;
      if ((kind >= keyedInlineEntry && kind <= keyedTreeEntry) || kind === keyedTextItemEntry) {
        const keyTypeLength = buffer[offset]!;
        const keyType = buffer.toString("utf8", offset + 1, offset + 1 + keyTypeLength);
        offset += 1 + keyTypeLength;
        const key = { type: keyType, bytes: lengthPrefixedAt() };
        if (kind === keyedInlineEntry) {
          entries.push({ kind: "inline", key, type, bytes: lengthPrefixedAt() });
        } else if (kind === keyedItemEntry || kind === keyedTextItemEntry) {
          if (offset + idBytes > buffer.byteLength) throw new Error("truncated entry");
          entries.push({
            kind: "item",
            key,
            type,
            itemId: buffer.toString("hex", offset, offset + idBytes),
            ...(kind === keyedTextItemEntry ? { text: true } : {}),
          });
          offset += idBytes;
        } else {
          const refJson = lengthPrefixedAt().toString("utf8");
          entries.push({ kind: "tree", key, refJson, rootIds: rootIdsOfRef(refJson) });
        }
        continue;
      }
      if (kind === inlineEntry) {
        const length = buffer.readUInt32BE(offset);
        offset += 4;
        if (offset + length > buffer.byteLength) throw new Error("truncated entry");
        entries.push({ kind: "inline", type, bytes: buffer.subarray(offset, offset + length) });
        offset += length;
      } else if (kind === itemEntry || kind === textItemEntry) {
        if (offset + idBytes > buffer.byteLength) throw new Error("truncated entry");
        entries.push({
          kind: "item",
          type,
          itemId: buffer.toString("hex", offset, offset + idBytes),
          ...(kind === textItemEntry ? { text: true } : {}),
        });
        offset += idBytes;
      } else {
        throw new Error("unknown entry kind");
      }
    }
    return { kind: "leaf", entries };
  } catch (error) {
    throw rowCorruptError(`array node ${nodeId}`, error);
  }
}

/**
 * Content-defined node boundaries: a node closes after an entry (or child) whose own hash says
 * so, so inserting or deleting a key changes only the nodes around it, not every later one.
 */
export interface ContentBoundaries {
  leafEndsAfter(entryIndex: number): boolean;
  innerEndsAfter(childId: string): boolean;
}

/** Closes a node on average every `average` (a power of two) entries or children. */
export function contentBoundaries(keyHashes: readonly number[], average = 16): ContentBoundaries {
  const mask = average - 1;
  return {
    leafEndsAfter: (entryIndex) => (keyHashes[entryIndex]! & mask) === mask,
    innerEndsAfter: (childId) => (Number.parseInt(childId.slice(0, 8), 16) & mask) === mask,
  };
}

export interface TreeShape {
  /** A leaf closes once it holds this many entries. */
  maxLeafEntries: number;
  /** …or once its bytes reach this size, so a leaf (a DB row rewritten on append) stays small. */
  maxLeafBytes: number;
  /** An inner node closes at this many children. */
  maxInnerChildren: number;
}

export interface BuiltNode {
  id: string;
  kind: "leaf" | "inner";
  bytes: Uint8Array;
  /** For leaves: the index of the first entry it holds and how many. */
  firstEntry?: number;
  entryCount?: number;
}

/** The previous build of the same array, so unchanged leaves are neither re-joined nor re-hashed. */
export interface PreviousBuild {
  entries: readonly Uint8Array[];
  nodes: readonly BuiltNode[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** An open tail of `count` entries as segment sizes: its binary digits, largest first. */
export function tailSegments(count: number): number[] {
  const sizes: number[] = [];
  for (let bit = 1 << 30; bit >= 1; bit >>>= 1) if ((count & bit) !== 0) sizes.push(bit);
  return sizes;
}

/** Inner levels above `leaves` leaves when every inner node holds `fanout` children. */
function levelsFor(leaves: number, fanout: number): number {
  let levels = 0;
  for (let width = leaves; width > 1; width = Math.ceil(width / fanout)) levels += 1;
  return levels;
}

/**
 * Packs entries into leaves, then leaf ids into inner nodes, level by level until one root remains.
 *
 * Packing is greedy from the start and a node's closing depends only on what is already in it,
 * so the chunk boundaries of a prefix never depend on what comes after it. Appending elements
 * therefore reproduces every closed node byte for byte (same id, no new row) and only the open
 * tail of each level is new: O(log n) small rows per append, never a copy of the array. The open
 * tail of the leaf level is itself stored as segments (tailSegments), so an append writes only
 * the newest segment, not every entry since the last closed leaf again. Readers never depend on
 * where leaves end: a level is read whole and its leaves' entries concatenated, so segments are
 * ordinary leaves and trees written before them (one tail leaf) read the same way.
 */
export function buildTree(
  entries: readonly Uint8Array[],
  shape: TreeShape,
  previous?: PreviousBuild,
  boundaries?: ContentBoundaries,
  /** How nodes are named: the saver's content ids (keyed under encryption). */
  ids: ContentIds = sha256ContentIds,
): { rootId: string; nodes: BuiltNode[] } {
  // A leaf holding the same entries, at the same position, as a leaf of the previous build is
  // that leaf: reuse its bytes and id (entry compares are far cheaper than joining and sha256,
  // and on an append every closed leaf is unchanged). Only byte-identical entries qualify.
  const previousLeaves = new Map<number, BuiltNode>();
  for (const node of previous?.nodes ?? []) {
    if (node.kind === "leaf" && node.firstEntry !== undefined)
      previousLeaves.set(node.firstEntry, node);
  }
  const unchangedLeaf = (
    firstEntry: number,
    leafEntries: readonly Uint8Array[],
  ): BuiltNode | undefined => {
    const candidate = previousLeaves.get(firstEntry);
    if (
      candidate === undefined ||
      candidate.entryCount !== leafEntries.length ||
      previous === undefined
    )
      return undefined;
    for (let offset = 0; offset < leafEntries.length; offset += 1) {
      const before = previous.entries[firstEntry + offset];
      if (before === undefined || !sameBytes(before, leafEntries[offset]!)) return undefined;
    }
    return candidate;
  };
  const nodes: BuiltNode[] = [];
  let level: string[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let pendingFirst = 0;
  const closeLeaf = () => {
    const reused = unchangedLeaf(pendingFirst, pending);
    const bytes = reused?.bytes ?? encodeLeaf(pending);
    const id = reused?.id ?? ids.of(bytes);
    nodes.push({ id, kind: "leaf", bytes, firstEntry: pendingFirst, entryCount: pending.length });
    level.push(id);
    pendingFirst += pending.length;
    pending = [];
    pendingBytes = 0;
  };
  // With content boundaries the size limits still apply, as a backstop, at 4x the usual size.
  const backstop = boundaries === undefined ? 1 : 4;
  for (const [index, entry] of entries.entries()) {
    pending.push(entry);
    pendingBytes += entry.byteLength;
    if (
      pending.length >= shape.maxLeafEntries * backstop ||
      pendingBytes >= shape.maxLeafBytes * backstop ||
      boundaries?.leafEndsAfter(index)
    )
      closeLeaf();
  }
  if (pending.length > 0 || level.length === 0) {
    // The open tail is rewritten by every append. Once a closed leaf precedes it, it is stored as
    // segments of power-of-two sizes, largest first (13 entries: 8, 4, 1): an append writes one
    // new segment of lowbit(n) entries instead of the whole tail (3 entry writes per entry over a
    // leaf's life instead of ~8.5 at 16 entries), and the segments are ordinary leaves of the same
    // level, so reading them costs no extra round trip and no new node format. Like every closed
    // node they depend only on the entries before them, so an unchanged segment keeps its id.
    // A leaf-only tree stays one leaf (splitting it would add an inner root and a round trip), and
    // the tail stays one leaf where its segments would make the tree a level deeper.
    const segments = level.length === 0 ? [pending.length] : tailSegments(pending.length);
    if (
      segments.length > 1 &&
      boundaries === undefined &&
      levelsFor(level.length + segments.length, shape.maxInnerChildren) >
        levelsFor(level.length + 1, shape.maxInnerChildren)
    )
      segments.splice(0, segments.length, pending.length);
    const tail = pending;
    let offset = 0;
    for (const size of segments) {
      pending = tail.slice(offset, offset + size);
      offset += size;
      closeLeaf();
    }
  }

  while (level.length > 1) {
    const next: string[] = [];
    let children: string[] = [];
    const closeInner = () => {
      const bytes = encodeInner(children);
      const id = ids.of(bytes);
      nodes.push({ id, kind: "inner", bytes });
      next.push(id);
      children = [];
    };
    for (const childId of level) {
      children.push(childId);
      if (
        children.length >= shape.maxInnerChildren * backstop ||
        boundaries?.innerEndsAfter(childId)
      )
        closeInner();
    }
    if (children.length > 0) closeInner();
    // A level whose every child ended a node would never shrink: merge it whole instead.
    if (next.length === level.length) {
      nodes.splice(nodes.length - next.length, next.length);
      next.length = 0;
      children = [...level];
      closeInner();
    }
    level = next;
  }
  return { rootId: level[0]!, nodes };
}
