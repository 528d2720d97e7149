import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { type PreparedPayload, UnserializableError } from "@leangraph/serde";
import { rowCorruptError } from "../errors.js";
import { joinJsonArray } from "./json-array-split.js";
import {
  type PayloadPreparer,
  type PreparedValue,
  payloadPreparerFor,
  rebaseUnserializable,
} from "./payload-preparer.js";
import {
  type ArrayEntry,
  type BuiltNode,
  buildTree,
  contentBoundaries,
  decodeNode,
  type EntryKey,
  encodeEntry,
  encodeKeyedEntry,
  type KeyedEntry,
  sha256Hex,
  type TreeEntry,
  type TreeShape,
} from "./tree-node.js";
import { matchesSnapshot, type ObjectSnapshot } from "./unchanged-object.js";
import {
  inlineRef,
  itemRef,
  parseValueRef,
  rootItemIds,
  shapeOf,
  treeRef,
  type ValueRef,
} from "./value-ref.js";

export type ItemKind = "value" | "leaf" | "inner";

/** An item an encode produced; the saver inserts it (idempotently: the id is its content hash). */
export interface NewItem {
  id: string;
  kind: ItemKind;
  bytes: Uint8Array;
  /** Large values go to the blob store; the row then has no body. */
  inBlobStore: boolean;
  /**
   * Blobs the serializer wrote that these bytes reference (for a leaf: its inline entries'),
   * as the serializer reported them. Recorded on the item row: what keeps them alive.
   */
  blobRefs: readonly string[];
}

export interface EncodedValue {
  ref: ValueRef;
  items: NewItem[];
  /**
   * Items the encoding points at without carrying their bytes (reused from the previous encode of
   * the same channel). The write transaction checks they still exist; if one was swept meanwhile,
   * the saver encodes again from scratch.
   */
  reusedItemIds: string[];
  /** Payloads whose blobs the serializer must write before the items are stored. */
  toWrite: PreparedPayload[];
}

/** Fetches item bytes by id, from the database or the blob store. */
export interface ItemReader {
  readItems(ids: readonly string[]): Promise<Map<string, Uint8Array>>;
}

export interface ValueCodecOptions {
  /**
   * The size above which a value is stored once: array elements and object or Map entries whose
   * serialized bytes are at most this size live inside their leaf node; bigger ones become their
   * own content-addressed item, shared by every write, checkpoint, fork and copy that holds them
   * (an append never copies them). 1 KiB because an item costs a row of its own (a 64-character
   * id, twice with its index: about 0.15 KiB) plus 32 bytes in each leaf naming it, and a read
   * round trip; below that, a copy in each leaf costs less than the indirection, above it every
   * further copy costs more than the item ever did.
   * @default 1024
   */
  inlineElementMaxBytes: number;
  /**
   * A whole (non-array) value this small is kept inside the row's JSON.
   * @default 256
   */
  inlineValueMaxBytes: number;
  /**
   * Items at least this big go to the blob store; smaller ones stay in the database, where they
   * cost no file-system block each.
   * @default 65536
   */
  blobMinBytes: number;
  tree: TreeShape;
  /**
   * Plain objects and Maps with at least this many entries are stored as trees keyed by entry,
   * so a change to one key writes that entry and the path to the root; as channel values and
   * nested inside such entries. Smaller ones are one serialized value.
   * @default 8
   */
  keyedTreeMinEntries: number;
}

/** What a saver's `codec` option takes: any of ValueCodecOptions, each field of `tree` too. */
export type CodecOptions = Partial<Omit<ValueCodecOptions, "tree">> & {
  tree?: Partial<TreeShape> | undefined;
};

export const defaultValueCodecOptions: ValueCodecOptions = {
  inlineElementMaxBytes: 1024,
  inlineValueMaxBytes: 256,
  blobMinBytes: 64 * 1024,
  // Every checkpoint keeps its own copy of each level's open (tail) node, so an append costs
  // about half a leaf plus half an inner node per level. 16 entries (at most 4 KiB) per leaf and
  // 16 children per inner node keep that near 0.3 KiB + 0.25 KiB per level (64/64 wrote ~1.2 KiB
  // per append: 164 KB of item rows instead of 106 KB after 100 appends of 200 KB files), for one
  // more read round trip each time an array grows 16-fold.
  tree: { maxLeafEntries: 16, maxLeafBytes: 4096, maxInnerChildren: 16 },
  keyedTreeMinEntries: 8,
};

interface PreviousArrayEncode {
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
interface PreviousKeyedEntry {
  value: unknown;
  entry: Uint8Array;
  itemId: string | undefined;
  blobIds: readonly string[];
  snapshot: ObjectSnapshot | undefined;
}

interface PreviousKeyedEncode {
  byKey: Map<string, PreviousKeyedEntry>;
  /** Leaf holding each key's entry in that encode (what a reused inline entry's blobs rely on). */
  leafOfKey: Map<string, string>;
  entries: Uint8Array[];
  nodeIds: Set<string>;
  nodes: BuiltNode[];
}

/** An object's or Map's entries, with what identifies each key across encodes. */
interface KeyedValue {
  kind: "o" | "m";
  entries: { identity: string | undefined; key: unknown; value: unknown }[];
}

const maxRememberedArrays = 256;
/** One batch of JSON elements read back with one parse; 32 MiB keeps far from V8's string limit. */
const loadBatchMaxBytes = 32 * 1024 * 1024;
const noBlobIds: readonly string[] = Object.freeze([]);

function isPlainArray(value: unknown): value is unknown[] {
  return Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype;
}

/** Primitives compare by value with ===, so an equal element needs no new serialization or hash. */
function isReusablePrimitive(value: unknown): boolean {
  const type = typeof value;
  return type === "string" || type === "boolean" || (type === "number" && !Number.isNaN(value));
}

/** The leaf of a build that holds each entry, by entry index. */
function leafOfEntry(nodes: readonly BuiltNode[], entryCount: number): (string | undefined)[] {
  const leaves = new Array<string | undefined>(entryCount);
  for (const node of nodes) {
    if (node.kind !== "leaf" || node.firstEntry === undefined || node.entryCount === undefined)
      continue;
    for (let offset = 0; offset < node.entryCount; offset += 1)
      leaves[node.firstEntry + offset] = node.id;
  }
  return leaves;
}

/** A key's hash for content-defined leaf boundaries: stable across processes, cheap. */
function hashOfKey(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

function unionOf(lists: Iterable<readonly string[]>): readonly string[] {
  let union: Set<string> | undefined;
  for (const list of lists) {
    if (list.length === 0) continue;
    union ??= new Set();
    for (const id of list) union.add(id);
  }
  return union === undefined ? noBlobIds : [...union];
}

/**
 * Turns channel values and pending-write values into small refs plus content-addressed items, and
 * back. Values go through the saver's `serde` unchanged (element by element for arrays), so what
 * round-trips through the stock serializer round-trips here too.
 */
export class ValueCodec {
  readonly #serde: SerializerProtocol;
  readonly #preparer: PayloadPreparer;
  readonly #options: ValueCodecOptions;
  /**
   * Last array encoded per channel. Appending one element to a 1,000-element array of 200 KB
   * strings must not re-serialize and re-hash 200 MB each step, so elements that are the very
   * same primitive at the same index reuse their entry. An object at the same index reuses its
   * entry only while it still matches the snapshot taken when it was serialized: it may have
   * been mutated in place, and a stale copy would be silent data loss.
   */
  readonly #previousArrays = new Map<string, PreviousArrayEncode | PreviousKeyedEncode>();

  constructor(serde: SerializerProtocol, options: ValueCodecOptions = defaultValueCodecOptions) {
    this.#serde = serde;
    this.#preparer = payloadPreparerFor(serde);
    this.#options = options;
  }

  forgetReuse(): void {
    this.#previousArrays.clear();
  }

  /**
   * Plans how `value` is stored: its ref and the items to insert, with no I/O. A value the
   * serializer cannot store raises UnserializableError with a path relative to `value`.
   */
  async encode(value: unknown, reuseKey?: string): Promise<EncodedValue> {
    if (isPlainArray(value) && value.length > 0) return this.#encodeArray(value, reuseKey);
    const keyed = this.#keyedEntriesOf(value);
    if (keyed !== undefined) return this.#encodeKeyed(keyed, reuseKey);
    const { values, toWrite } = await this.#preparer
      .prepare([value], false)
      .catch((error: unknown) => Promise.reject(rebaseUnserializable(error, undefined)));
    const { type, bytes, blobIds } = values[0]!;
    // Stored once: a pending write `{ [path]: text }` has too few keys for a keyed tree, but the
    // channel it is folded into holds `text` as an entry item of its own. Serialized whole, the
    // write's item would be a second copy of the text under another id; as a (one-leaf) keyed
    // tree its big entries are the very items the channel names. Only worth a tree when the
    // whole is above the size an entry is stored once at.
    if (bytes.byteLength > this.#options.inlineElementMaxBytes) {
      const fewKeys = this.#keyedEntriesOf(value, 1);
      if (fewKeys !== undefined) return this.#encodeKeyed(fewKeys, reuseKey);
    }
    // A value that references blobs is always an item: rows then never name blobs themselves,
    // so liveness is decided from item rows alone.
    if (bytes.byteLength <= this.#options.inlineValueMaxBytes && blobIds.length === 0) {
      const ref = inlineRef(type, bytes, type === "json");
      return { ref, items: [], reusedItemIds: [], toWrite };
    }
    const item = this.#valueItem(bytes, blobIds);
    return { ref: itemRef(type, item.id), items: [item], reusedItemIds: [], toWrite };
  }

  #valueItem(bytes: Uint8Array, blobRefs: readonly string[]): NewItem {
    return {
      id: sha256Hex(bytes),
      kind: "value",
      bytes,
      inBlobStore: bytes.byteLength >= this.#options.blobMinBytes,
      blobRefs,
    };
  }

  /**
   * The entries of a plain object or Map stored as a keyed tree, or undefined for any other
   * value. Only values whose serialized form is exactly their entries qualify: no toJSON, no
   * `lc` key (JsonPlus revives `{ lc, type, … }` objects as LangChain or lc:2 records), and at
   * least `minimum` entries (keyedTreeMinEntries unless told).
   */
  #keyedEntriesOf(
    value: unknown,
    minimum = this.#options.keyedTreeMinEntries,
  ): KeyedValue | undefined {
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
   * An object or Map as a tree of keyed entries, leaves closing where a key's hash says (so an
   * inserted or deleted key changes only the nodes around it). Unchanged entries (the same
   * primitive, or an object still matching its snapshot) are reused from the last encode of the
   * channel without serializing; a nested object, Map or array that qualifies is a tree of its
   * own, reused the same way.
   */
  async #encodeKeyed(keyed: KeyedValue, reuseKey: string | undefined): Promise<EncodedValue> {
    const remembered = reuseKey === undefined ? undefined : this.#previousArrays.get(reuseKey);
    const previous = remembered !== undefined && "byKey" in remembered ? remembered : undefined;
    const count = keyed.entries.length;
    const items = new Map<string, NewItem>();
    const reusedItemIds = new Set<string>();
    const toWrite: PreparedPayload[] = [];
    const entries: Uint8Array[] = new Array(count);
    const inlineBlobIds: (readonly string[])[] = new Array(count).fill(noBlobIds);
    const records: (PreviousKeyedEntry | undefined)[] = new Array(count);
    const keys: EntryKey[] = new Array(count);
    const absorb = (encoded: EncodedValue) => {
      for (const item of encoded.items) items.set(item.id, item);
      for (const id of encoded.reusedItemIds) reusedItemIds.add(id);
      toWrite.push(...encoded.toWrite);
    };

    // Keys: object keys are their UTF-8; Map keys are serialized values.
    const mapKeyPositions: number[] = [];
    for (const [index, { key }] of keyed.entries.entries()) {
      if (keyed.kind === "o") keys[index] = { type: "", bytes: Buffer.from(key as string, "utf8") };
      else mapKeyPositions.push(index);
    }
    if (mapKeyPositions.length > 0) {
      const prepared = await this.#preparer
        .prepare(
          mapKeyPositions.map((index) => keyed.entries[index]!.key),
          false,
        )
        .catch((error: unknown) => {
          const position = (error as { path?: unknown[] }).path?.[0];
          return Promise.reject(
            rebaseUnserializable(
              error,
              typeof position === "number" ? mapKeyPositions[position] : undefined,
            ),
          );
        });
      mapKeyPositions.forEach((index, position) => {
        const key = prepared.values[position]!;
        keys[index] = { type: key.type, bytes: key.bytes };
        inlineBlobIds[index] = key.blobIds;
      });
      toWrite.push(...prepared.toWrite);
    }

    const toSerialize: number[] = [];
    for (const [index, { identity, value }] of keyed.entries.entries()) {
      const before = identity === undefined ? undefined : previous?.byKey.get(identity);
      if (before !== undefined && before.value === value) {
        const unchanged =
          isReusablePrimitive(value) ||
          (before.snapshot !== undefined && matchesSnapshot(value, before.snapshot));
        if (unchanged && inlineBlobIds[index]!.length === 0) {
          entries[index] = before.entry;
          records[index] = before;
          if (before.itemId !== undefined) reusedItemIds.add(before.itemId);
          else if (before.blobIds.length > 0) {
            inlineBlobIds[index] = before.blobIds;
            // Its blobs stay alive through the leaf it came from (checked at commit).
            const sourceLeaf = previous!.leafOfKey.get(identity!);
            if (sourceLeaf !== undefined) reusedItemIds.add(sourceLeaf);
          }
          continue;
        }
      }
      const nested =
        isPlainArray(value) && value.length > 0 ? "array" : this.#keyedEntriesOf(value);
      if (nested !== undefined) {
        const nestedKey =
          reuseKey === undefined || identity === undefined ? undefined : `${reuseKey}\0${identity}`;
        let encoded: EncodedValue;
        try {
          encoded =
            nested === "array"
              ? await this.#encodeArray(value as unknown[], nestedKey)
              : await this.#encodeKeyed(nested, nestedKey);
        } catch (error) {
          if (error instanceof UnserializableError)
            error.prepend(keyed.kind === "o" ? (keyed.entries[index]!.key as string) : index);
          throw error;
        }
        absorb(encoded);
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

    let prepared: PreparedValue[];
    try {
      const result = await this.#preparer.prepare(
        toSerialize.map((index) => keyed.entries[index]!.value),
        reuseKey !== undefined,
      );
      prepared = result.values;
      toWrite.push(...result.toWrite);
    } catch (error) {
      const position = (error as { path?: unknown[] }).path?.[0];
      const index = typeof position === "number" ? toSerialize[position] : undefined;
      throw rebaseUnserializable(
        error,
        index === undefined
          ? undefined
          : keyed.kind === "o"
            ? (keyed.entries[index]!.key as string)
            : index,
      );
    }
    toSerialize.forEach((index, position) => {
      const { type, bytes, blobIds, snapshot } = prepared[position]!;
      const key = keys[index]!;
      let itemId: string | undefined;
      if (bytes.byteLength <= this.#options.inlineElementMaxBytes) {
        entries[index] = encodeKeyedEntry({ kind: "inline", key, type, bytes });
        inlineBlobIds[index] = unionOf([inlineBlobIds[index]!, blobIds]);
      } else {
        const item = this.#valueItem(bytes, blobIds);
        items.set(item.id, item);
        itemId = item.id;
        entries[index] = encodeKeyedEntry({ kind: "item", key, type, itemId });
      }
      records[index] = {
        value: keyed.entries[index]!.value,
        entry: entries[index]!,
        itemId,
        blobIds: itemId === undefined ? blobIds : noBlobIds,
        snapshot,
      };
    });

    const keyHashes = keys.map((key) => hashOfKey(key.bytes));
    const tree = buildTree(entries, this.#options.tree, previous, contentBoundaries(keyHashes));
    const leafOfKey = new Map<string, string>();
    for (const node of tree.nodes) {
      if (previous?.nodeIds.has(node.id)) {
        reusedItemIds.add(node.id);
      } else {
        const first = node.firstEntry ?? 0;
        items.set(node.id, {
          id: node.id,
          kind: node.kind,
          bytes: node.bytes,
          inBlobStore: false,
          blobRefs:
            node.kind === "leaf"
              ? unionOf(inlineBlobIds.slice(first, first + (node.entryCount ?? 0)))
              : [],
        });
      }
      if (node.kind === "leaf" && node.firstEntry !== undefined) {
        for (let offset = 0; offset < (node.entryCount ?? 0); offset += 1) {
          const identity = keyed.entries[node.firstEntry + offset]!.identity;
          if (identity !== undefined) leafOfKey.set(identity, node.id);
        }
      }
    }
    for (const id of items.keys()) reusedItemIds.delete(id);
    if (reuseKey !== undefined) {
      const byKey = new Map<string, PreviousKeyedEntry>();
      keyed.entries.forEach(({ identity }, index) => {
        const record = records[index];
        if (identity !== undefined && record !== undefined) byKey.set(identity, record);
      });
      this.#remember(reuseKey, {
        byKey,
        leafOfKey,
        entries,
        nodeIds: new Set(tree.nodes.map((node) => node.id)),
        nodes: tree.nodes,
      });
    }
    const ref = treeRef(keyed.kind === "o" ? "object" : "Map", tree.rootId, count);
    return { ref, items: [...items.values()], reusedItemIds: [...reusedItemIds], toWrite };
  }

  async #encodeArray(array: unknown[], reuseKey: string | undefined): Promise<EncodedValue> {
    const remembered = reuseKey === undefined ? undefined : this.#previousArrays.get(reuseKey);
    const previous = remembered !== undefined && "elements" in remembered ? remembered : undefined;
    const previousLeaves =
      previous === undefined ? [] : leafOfEntry(previous.nodes, previous.entries.length);
    const items = new Map<string, NewItem>();
    const reusedItemIds = new Set<string>();
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
        previous.elements[index] === element
      ) {
        const snapshot = previous.snapshots[index];
        const unchanged =
          isReusablePrimitive(element) ||
          (snapshot !== undefined && matchesSnapshot(element, snapshot));
        if (unchanged) {
          entries[index] = previous.entries[index]!;
          itemIds[index] = previous.itemIds[index];
          entryBlobIds[index] = previous.entryBlobIds[index]!;
          snapshots[index] = snapshot;
          const reusedId = previous.itemIds[index];
          if (reusedId !== undefined) reusedItemIds.add(reusedId);
          // The blobs an inline entry names stay alive only while some row names them: the
          // leaf it came from is checked to still exist when the new leaf is committed.
          else if (entryBlobIds[index]!.length > 0) {
            const sourceLeaf = previousLeaves[index];
            if (sourceLeaf !== undefined) reusedItemIds.add(sourceLeaf);
          }
          continue;
        }
      }
      toSerialize.push(index);
    }
    let prepared: PreparedValue[];
    let toWrite: PreparedPayload[];
    try {
      ({ values: prepared, toWrite } = await this.#preparer.prepare(
        toSerialize.map((index) => array[index] ?? null),
        reuseKey !== undefined,
      ));
    } catch (error) {
      const position = (error as { path?: unknown[] }).path?.[0];
      throw rebaseUnserializable(
        error,
        typeof position === "number" ? toSerialize[position] : undefined,
      );
    }
    toSerialize.forEach((index, position) => {
      const { type, bytes, blobIds, snapshot } = prepared[position]!;
      entryBlobIds[index] = blobIds;
      snapshots[index] = snapshot;
      let entry: ArrayEntry;
      if (bytes.byteLength <= this.#options.inlineElementMaxBytes) {
        entry = { kind: "inline", type, bytes };
      } else {
        const item = this.#valueItem(bytes, blobIds);
        items.set(item.id, item);
        itemIds[index] = item.id;
        entry = { kind: "item", type, itemId: item.id };
      }
      entries[index] = encodeEntry(entry);
    });
    const tree = buildTree(entries, this.#options.tree, previous);
    for (const node of tree.nodes) {
      if (previous?.nodeIds.has(node.id)) {
        // Unchanged since the last put of this channel: only check it still exists.
        reusedItemIds.add(node.id);
        continue;
      }
      items.set(node.id, {
        id: node.id,
        kind: node.kind,
        bytes: node.bytes,
        inBlobStore: false,
        // Inner nodes hold only child ids; a leaf names what its inline entries name.
        blobRefs: node.kind === "leaf" ? this.#inlineBlobIdsOf(node, itemIds, entryBlobIds) : [],
      });
    }
    for (const id of items.keys()) reusedItemIds.delete(id);
    if (reuseKey !== undefined) {
      const nodeIds = new Set(tree.nodes.map((node) => node.id));
      this.#remember(reuseKey, {
        elements: array.slice(),
        entries,
        itemIds,
        entryBlobIds,
        snapshots,
        nodeIds,
        nodes: tree.nodes,
      });
    }
    return {
      ref: treeRef("array", tree.rootId, array.length),
      items: [...items.values()],
      reusedItemIds: [...reusedItemIds],
      toWrite,
    };
  }

  /** Blobs named by the inline entries of a leaf (item entries are named by their own rows). */
  #inlineBlobIdsOf(
    leaf: BuiltNode,
    itemIds: readonly (string | undefined)[],
    entryBlobIds: readonly (readonly string[])[],
  ): readonly string[] {
    const first = leaf.firstEntry ?? 0;
    const lists: (readonly string[])[] = [];
    for (let index = first; index < first + (leaf.entryCount ?? 0); index += 1)
      if (itemIds[index] === undefined) lists.push(entryBlobIds[index]!);
    return unionOf(lists);
  }

  #remember(key: string, encode: PreviousArrayEncode | PreviousKeyedEncode): void {
    this.#previousArrays.delete(key);
    this.#previousArrays.set(key, encode);
    if (this.#previousArrays.size > maxRememberedArrays) {
      const oldest = this.#previousArrays.keys().next().value;
      if (oldest !== undefined) this.#previousArrays.delete(oldest);
    }
  }

  async decode(ref: ValueRef, reader: ItemReader): Promise<unknown> {
    const shape = shapeOf(ref);
    switch (shape.kind) {
      case "array":
        return this.#decodeArray(shape.rootId, shape.length, reader);
      case "keyed":
        return this.#decodeKeyed(shape.rootId, shape.size, shape.container, reader);
      case "inline":
        return this.#load(shape.type, shape.bytes);
      case "item": {
        const bytes = (await reader.readItems([shape.itemId])).get(shape.itemId);
        if (bytes === undefined) throw rowCorruptError(`value ${shape.itemId}`);
        return this.#load(shape.type, bytes);
      }
    }
  }

  /**
   * A "bytes" payload is the value itself: the stock serializer hands back what it is given, so it
   * gets a plain Uint8Array of its own, as MemorySaver returns it, never a Buffer (whose toJSON
   * would turn it into `{ type: "Buffer", data }` the next time it is stored) or a view into a
   * larger row buffer.
   */
  #load(type: string, bytes: Uint8Array): Promise<unknown> {
    return this.#serde.loadsTyped(type, type === "bytes" ? new Uint8Array(bytes) : bytes);
  }

  /**
   * The entries of a tree in order. Every leaf sits at the same depth (each level packs the whole
   * level below), so the tree is read one level per round trip.
   */
  async #readLeaves(rootId: string, reader: ItemReader): Promise<TreeEntry[]> {
    let level = [rootId];
    const entries: TreeEntry[] = [];
    while (level.length > 0) {
      const bytesById = await reader.readItems(level);
      const next: string[] = [];
      for (const id of level) {
        const bytes = bytesById.get(id);
        if (bytes === undefined) throw rowCorruptError(`tree node ${id}`);
        const node = decodeNode(id, bytes);
        if (node.kind === "inner") next.push(...node.childIds);
        else entries.push(...node.entries);
      }
      level = next;
    }
    return entries;
  }

  async #decodeArray(rootId: string, length: number, reader: ItemReader): Promise<unknown[]> {
    const entries = (await this.#readLeaves(rootId, reader)) as ArrayEntry[];
    if (entries.length !== length || entries.some((entry) => "key" in entry)) {
      throw rowCorruptError(
        `array ${rootId} (expected ${length} elements, found ${entries.length})`,
      );
    }
    const itemIds = [
      ...new Set(entries.flatMap((entry) => (entry.kind === "item" ? [entry.itemId] : []))),
    ];
    const itemBytes =
      itemIds.length > 0 ? await reader.readItems(itemIds) : new Map<string, Uint8Array>();
    const payloads = entries.map((entry, index) => {
      const bytes = entry.kind === "inline" ? entry.bytes : itemBytes.get(entry.itemId);
      if (bytes === undefined) throw rowCorruptError(`array element ${index} of ${rootId}`);
      return bytes;
    });
    if (entries.every((entry) => entry.type === "json")) return this.#loadJsonElements(payloads);
    const values: unknown[] = new Array(entries.length);
    for (let index = 0; index < entries.length; index += 1) {
      values[index] = await this.#load(entries[index]!.type, payloads[index]!);
    }
    return values;
  }

  async #decodeKeyed(
    rootId: string,
    count: number,
    kind: "object" | "Map",
    reader: ItemReader,
  ): Promise<unknown> {
    const entries = await this.#readLeaves(rootId, reader);
    if (entries.length !== count || entries.some((entry) => !("key" in entry))) {
      throw rowCorruptError(
        `${kind} ${rootId} (expected ${count} entries, found ${entries.length})`,
      );
    }
    const keyed = entries as KeyedEntry[];
    const itemIds = [
      ...new Set(keyed.flatMap((entry) => (entry.kind === "item" ? [entry.itemId] : []))),
    ];
    const itemBytes =
      itemIds.length > 0 ? await reader.readItems(itemIds) : new Map<string, Uint8Array>();
    const values: unknown[] = new Array(keyed.length);
    // Serialized values load in JSON batches, as array elements do; nested trees on their own.
    const jsonPositions: number[] = [];
    const jsonPayloads: Uint8Array[] = [];
    for (const [index, entry] of keyed.entries()) {
      if (entry.kind === "tree") {
        values[index] = await this.decode(
          parseValueRef(entry.refJson, `${kind} ${rootId}`),
          reader,
        );
        continue;
      }
      const bytes = entry.kind === "inline" ? entry.bytes : itemBytes.get(entry.itemId);
      if (bytes === undefined) throw rowCorruptError(`${kind} entry ${index} of ${rootId}`);
      if (entry.type === "json") {
        jsonPositions.push(index);
        jsonPayloads.push(bytes);
      } else values[index] = await this.#load(entry.type, bytes);
    }
    const loaded = await this.#loadJsonElements(jsonPayloads);
    jsonPositions.forEach((position, index) => {
      values[position] = loaded[index];
    });
    if (kind === "Map") {
      const map = new Map<unknown, unknown>();
      for (const [index, entry] of keyed.entries())
        map.set(await this.#load(entry.key.type, entry.key.bytes), values[index]);
      return map;
    }
    const object: Record<string, unknown> = {};
    for (const [index, entry] of keyed.entries()) {
      // Plain assignment, as JsonPlus's reviver builds objects: a `__proto__` key sets the
      // prototype there too (or is dropped), and the result must be the stock one.
      object[Buffer.from(entry.key.bytes).toString("utf8")] = values[index];
    }
    return object;
  }

  /**
   * Reads JSON elements back in batches of one array text each: one parse and revive per batch
   * instead of per element. Batches stay far below V8's maximum string length.
   */
  async #loadJsonElements(payloads: Uint8Array[]): Promise<unknown[]> {
    const values: unknown[] = [];
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const loaded = (await this.#serde.loadsTyped("json", joinJsonArray(batch))) as unknown[];
      for (const value of loaded) values.push(value);
      batch = [];
      batchBytes = 0;
    };
    for (const payload of payloads) {
      if (batchBytes + payload.byteLength > loadBatchMaxBytes) await flush();
      batch.push(payload);
      batchBytes += payload.byteLength + 1;
    }
    await flush();
    return values;
  }
}
