import type { TreeShape } from "./tree-node.js";

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
  // about half an inner node per level, plus one segment of the tail leaf (buildTree: ~3 entry
  // writes per element over a leaf's life). 16 entries (at most 4 KiB) per leaf and 16 children
  // per inner node keep that small (64/64 wrote ~1.2 KiB per append: 164 KB of item rows instead
  // of 106 KB after 100 appends of 200 KB files, before segments; with segments 32 entries per
  // leaf still stored more than 16: demo naive 1.43 MB against 1.41 MB), for one more read round
  // trip each time an array grows 16-fold.
  tree: { maxLeafEntries: 16, maxLeafBytes: 4096, maxInnerChildren: 16 },
  keyedTreeMinEntries: 8,
};
