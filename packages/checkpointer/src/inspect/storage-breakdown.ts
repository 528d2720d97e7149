import { type BlobStore, LeangraphError, SerdeErrorCode } from "@leangraph/serde";
import { blobIdOfRef, isContainerRef, serdeRefsIn, serdeRefsInBlob } from "../codec/serde-refs.js";
import { childItemIds, decodeNode } from "../codec/tree-node.js";
import { parseValueRef, type ValueRef } from "../codec/value-codec.js";
import type { LeanCheckpointSaver } from "../core/lean-saver.js";
import type { CheckpointRow, RowStore } from "../core/row-store.js";
import { checkpointRowsOf, rowStoreOf, storedThreadIds } from "./saver-rows.js";

/** Stored bytes reachable from one channel: its values in checkpoints and the writes to it. */
export interface ChannelStorage {
  channel: string;
  /**
   * Unique bytes of the items and blobs reachable from this channel, each counted once, plus the
   * small values kept inline in rows (counted per row; they are part of the rows' bytes too).
   */
  bytes: number;
  /** How many distinct items and blobs those bytes are. */
  pieces: number;
}

export interface ThreadStorage {
  threadId: string;
  namespaces: number;
  checkpoints: number;
  writes: number;
  /** Checkpoint and write rows themselves: ids, skeleton, metadata, refs. */
  rowBytes: number;
  /**
   * rowBytes plus the unique item and blob bytes this thread reaches. Content is shared between
   * threads (a copied thread, a common file), so these do not add up to the store's size.
   */
  bytes: number;
  /** Largest first. */
  channels: ChannelStorage[];
}

/** A blob in the store that no checkpoint or write reaches: what `gc()` reclaims once old enough. */
export interface OrphanBlob {
  id: string;
  bytes: number;
  writtenAtMs: number;
}

export interface StorageBreakdown {
  /** Largest first. */
  threads: ThreadStorage[];
  /** Over all threads, each item or blob counted once per channel; largest first. */
  channels: ChannelStorage[];
  /** Unique bytes of every reachable item and blob, plus every row. */
  reachableBytes: number;
  blobCount: number;
  blobBytes: number;
  /** Largest first. */
  orphanBlobs: OrphanBlob[];
  orphanBlobBytes: number;
  /** Items or blobs a row reaches that are not stored (`leangraph verify` names them). */
  missingPieces: number;
  /** Blobs whose bytes do not match their id, found while scanning them for references. */
  damagedPieces: number;
}

export interface StorageBreakdownOptions {
  /** @default every thread in the store */
  threadIds?: readonly string[];
  /** Called after each thread. */
  onThread?: (done: number, total: number) => void;
  /** Checked between threads; an aborted signal stops with its reason. */
  signal?: AbortSignal;
}

/**
 * A piece of storage: a tree node (`n:`), a value item (`v:`) or a serializer blob (`s:` + the
 * serializer's `<kind>:<id>` ref). The prefix says how to read it, because an item row does not
 * say what it is.
 */
type PieceKey = string;

interface Piece {
  bytes: number;
  /** Held by the blob store (rather than in an item row's body). */
  blobId: string | undefined;
  next: PieceKey[];
  missing: boolean;
  /** Stored, but its bytes do not hash to its id (found while scanning it for references). */
  damaged?: boolean;
}

/**
 * Where a lean store's bytes go: per thread, per channel, and blobs nothing reaches. Read-only:
 * rows through the row store's read methods, bodies through `itemBodies`, blobs through the blob
 * store's `stat` and (for blobs that may hold serializer references) a streaming scan. Follows
 * references the way mark-and-sweep does (tree nodes down to their items, serializer references
 * inside bodies and inside container blobs), so an orphan here is what `gc()` would delete once
 * past its grace period.
 *
 * Memory: one small entry per distinct item and blob, and one set of keys per channel.
 */
export async function storageBreakdown(
  saver: LeanCheckpointSaver,
  options: StorageBreakdownOptions = {},
): Promise<StorageBreakdown> {
  const rows = rowStoreOf(saver);
  const graph = new PieceGraph(rows, saver.blobStore);
  const threadIds = options.threadIds ?? (await storedThreadIds(saver));
  const everything = new Set<PieceKey>();
  const byChannel = new Map<string, { seen: Set<PieceKey>; bytes: number }>();
  const threads: ThreadStorage[] = [];
  let rowBytesTotal = 0;

  for (const [index, threadId] of threadIds.entries()) {
    if (options.signal !== undefined) {
      // Yield first: SQLite reads resolve at once, and a loop of them would otherwise hold off
      // the caller's SIGINT handler (a macrotask) until the whole breakdown is done.
      await new Promise<void>((resolve) => setImmediate(resolve));
      options.signal.throwIfAborted();
    }
    const checkpointRows = await checkpointRowsOf(saver, threadId);
    const rootsByChannel = new Map<string, PieceKey[]>();
    /** Small values kept inside the row's refs: stored again in every row that holds them. */
    const inlineBytes = new Map<string, number>();
    const addRoots = (channel: string, ref: ValueRef) => {
      const roots = rootsByChannel.get(channel) ?? [];
      rootsByChannel.set(channel, roots);
      roots.push(...rootKeys(ref));
      const inline = "s" in ref ? ref.s.length : "b" in ref ? ref.b.length : 0;
      inlineBytes.set(channel, (inlineBytes.get(channel) ?? 0) + inline);
    };
    let writes = 0;
    let rowBytes = 0;
    for (const row of checkpointRows) {
      rowBytes += checkpointRowBytes(row);
      for (const [channel, { r }] of Object.entries(channelRefsOf(row))) addRoots(channel, r);
      for (const write of await rows.getWrites(row.threadId, row.checkpointNs, row.checkpointId)) {
        writes += 1;
        rowBytes += write.taskId.length + write.channel.length + write.valueRef.length + 8;
        addRoots(
          write.channel,
          parseValueRef(write.valueRef, `write ${write.taskId}/${write.idx}`),
        );
      }
    }
    const threadSeen = new Set<PieceKey>();
    let threadBytes = rowBytes;
    const channels: ChannelStorage[] = [];
    for (const [channel, roots] of rootsByChannel) {
      const inline = inlineBytes.get(channel) ?? 0;
      const own = await graph.reach(roots, new Set());
      channels.push({ channel, bytes: own.bytes + inline, pieces: own.pieces });
      threadBytes += (await graph.reach(roots, threadSeen)).bytes;
      const global = byChannel.get(channel) ?? { seen: new Set<PieceKey>(), bytes: 0 };
      byChannel.set(channel, global);
      global.bytes += (await graph.reach(roots, global.seen)).bytes + inline;
      await graph.reach(roots, everything);
    }
    rowBytesTotal += rowBytes;
    threads.push({
      threadId,
      namespaces: new Set(checkpointRows.map((row) => row.checkpointNs)).size,
      checkpoints: checkpointRows.length,
      writes,
      rowBytes,
      bytes: threadBytes,
      channels: channels.sort((a, b) => b.bytes - a.bytes),
    });
    options.onThread?.(index + 1, threadIds.length);
  }

  const liveBlobIds = new Set<string>();
  let reachableBytes = rowBytesTotal;
  let missingPieces = 0;
  let damagedPieces = 0;
  for (const key of everything) {
    const piece = graph.known(key);
    reachableBytes += piece.bytes;
    if (piece.missing) missingPieces += 1;
    if (piece.damaged) damagedPieces += 1;
    if (piece.blobId !== undefined) liveBlobIds.add(piece.blobId);
  }
  const orphanBlobs: OrphanBlob[] = [];
  let blobCount = 0;
  let blobBytes = 0;
  for await (const id of saver.blobStore.list()) {
    const stat = await saver.blobStore.stat(id);
    // Deleted between list and stat (a concurrent gc): it is neither counted nor an orphan.
    if (stat === undefined) continue;
    blobCount += 1;
    blobBytes += stat.bytes;
    if (!liveBlobIds.has(id))
      orphanBlobs.push({ id, bytes: stat.bytes, writtenAtMs: stat.writtenAtMs });
  }
  orphanBlobs.sort((a, b) => b.bytes - a.bytes);
  return {
    threads: threads.sort((a, b) => b.bytes - a.bytes),
    channels: [...byChannel]
      .map(([channel, { seen, bytes }]) => ({ channel, bytes, pieces: seen.size }))
      .sort((a, b) => b.bytes - a.bytes),
    reachableBytes,
    blobCount,
    blobBytes,
    orphanBlobs,
    orphanBlobBytes: orphanBlobs.reduce((sum, blob) => sum + blob.bytes, 0),
    missingPieces,
    damagedPieces,
  };
}

function channelRefsOf(row: CheckpointRow): Record<string, { r: ValueRef }> {
  return JSON.parse(row.channelRefs) as Record<string, { r: ValueRef }>;
}

function checkpointRowBytes(row: CheckpointRow): number {
  return (
    row.threadId.length +
    row.checkpointNs.length +
    row.checkpointId.length +
    (row.parentCheckpointId?.length ?? 0) +
    row.checkpointType.length +
    row.checkpoint.byteLength +
    row.metadataType.length +
    row.metadata.byteLength +
    row.channelRefs.length
  );
}

function serdeKeys(refs: readonly string[]): PieceKey[] {
  return refs.map((ref) => `s:${ref}`);
}

/** Pieces a value ref points at; inline refs carry only the serializer's references. */
function rootKeys(ref: ValueRef): PieceKey[] {
  if ("a" in ref) return [`n:${ref.a}`];
  if ("i" in ref) return [`v:${ref.i}`];
  if ("s" in ref) return serdeKeys(serdeRefsIn(ref.s));
  return serdeKeys(serdeRefsIn(Buffer.from(ref.b, "base64")));
}

/** Pieces read once and remembered, so threads and channels sharing content cost one read. */
class PieceGraph {
  readonly #pieces = new Map<PieceKey, Piece>();

  constructor(
    private readonly rows: RowStore,
    private readonly blobStore: BlobStore,
  ) {}

  known(key: PieceKey): Piece {
    return this.#pieces.get(key)!;
  }

  /** Adds to `seen` every piece reachable from `roots` that it lacks; sums what was added. */
  async reach(
    roots: readonly PieceKey[],
    seen: Set<PieceKey>,
  ): Promise<{ bytes: number; pieces: number }> {
    let bytes = 0;
    let pieces = 0;
    let frontier = roots.filter((key) => !seen.has(key));
    while (frontier.length > 0) {
      await this.#load(frontier);
      const next: PieceKey[] = [];
      for (const key of frontier) {
        if (seen.has(key)) continue;
        seen.add(key);
        const piece = this.#pieces.get(key)!;
        bytes += piece.bytes;
        pieces += 1;
        for (const child of piece.next) if (!seen.has(child)) next.push(child);
      }
      frontier = next;
    }
    return { bytes, pieces };
  }

  async #load(keys: readonly PieceKey[]): Promise<void> {
    const unknown = [...new Set(keys.filter((key) => !this.#pieces.has(key)))];
    const itemIds = unknown.filter((key) => !key.startsWith("s:")).map((key) => key.slice(2));
    const bodies = itemIds.length > 0 ? await this.rows.itemBodies(itemIds) : new Map();
    for (const key of unknown) {
      this.#pieces.set(key, await this.#read(key, bodies));
    }
  }

  async #read(key: PieceKey, bodies: Map<string, Uint8Array | null>): Promise<Piece> {
    if (key.startsWith("s:")) {
      const ref = key.slice(2);
      const blobId = blobIdOfRef(ref);
      return this.#blobPiece(blobId, isContainerRef(ref));
    }
    const id = key.slice(2);
    const body = bodies.get(id);
    if (body === undefined) return { bytes: 0, blobId: undefined, next: [], missing: true };
    if (key.startsWith("n:")) {
      // Tree nodes always live in the database. Leaves hold small elements inline, and with them
      // any serializer references those elements carry.
      const node = decodeNode(id, body ?? new Uint8Array());
      const children = childItemIds(node).map(
        (child): PieceKey => (node.kind === "inner" ? `n:${child}` : `v:${child}`),
      );
      const refs = node.kind === "leaf" ? serdeKeys(serdeRefsIn(body ?? new Uint8Array())) : [];
      return {
        bytes: body?.byteLength ?? 0,
        blobId: undefined,
        next: [...children, ...refs],
        missing: false,
      };
    }
    if (body !== null) {
      return {
        bytes: body.byteLength,
        blobId: undefined,
        next: serdeKeys(serdeRefsIn(body)),
        missing: false,
      };
    }
    // A value item in the blob store may itself hold serializer references (an element with a
    // huge string inside it): scan it, streaming, as mark-and-sweep relies on item rows for.
    return this.#blobPiece(id, true);
  }

  async #blobPiece(blobId: string, mayHoldRefs: boolean): Promise<Piece> {
    const stat = await this.blobStore.stat(blobId);
    if (stat === undefined) return { bytes: 0, blobId, next: [], missing: true };
    let next: PieceKey[] = [];
    if (mayHoldRefs) {
      try {
        next = serdeKeys(await serdeRefsInBlob(this.blobStore, blobId));
      } catch (error) {
        // Vanished between stat and read, or damaged: an accounting still has an answer (the
        // bytes are there, or not); naming the damage is `verify`'s job.
        if (error instanceof LeangraphError && error.code === SerdeErrorCode.blobMissing) {
          return { bytes: 0, blobId, next: [], missing: true };
        }
        if (error instanceof LeangraphError && error.code === SerdeErrorCode.blobCorrupt) {
          return { bytes: stat.bytes, blobId, next: [], missing: false, damaged: true };
        }
        throw error;
      }
    }
    return { bytes: stat.bytes, blobId, next, missing: false };
  }
}
