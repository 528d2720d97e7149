import { inlineBytesOf, parseValueRef, type ValueRef } from "../codec/value-ref.js";
import type { LeanCheckpointSaver } from "../core/lean-saver.js";
import { nothingReached, type Reached, type StoredBlob } from "../core/reachability.js";
import { type CheckpointRow, writesOf } from "../core/row-store.js";
import { PieceGraph } from "./piece-graph.js";
import { channelRefsOf, checkpointRowsOf, rowStoreOf, storedThreadIds } from "./saver-rows.js";

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

/**
 * A blob in the store that nothing live reaches (core/reachability.ts decides): what `gc()`
 * reclaims once old enough.
 */
export type OrphanBlob = StoredBlob;

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
 * Where a lean store's bytes go: per thread, per channel, and blobs nothing reaches. Read-only:
 * rows through the row store's read methods, bodies through `itemBodies`, blobs through the blob
 * store's `stat`. Bytes are counted over core/reachability.ts's one walk (the one gc uses),
 * started from each thread's and channel's roots: checkpoint rows, pending writes and retained
 * history. Orphans come from the saver's `garbage()` (the one
 * liveness walk), so an orphan here is what `gc()` would delete once past its grace period.
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
  const everything = nothingReached();
  const byChannel = new Map<string, { reached: Reached; bytes: number; pieces: number }>();
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
    const rootsByChannel = new Map<string, ValueRef[]>();
    /** Small values kept inside the row's refs: stored again in every row that holds them. */
    const inlineBytes = new Map<string, number>();
    const addRoots = (channel: string, ref: ValueRef) => {
      const roots = rootsByChannel.get(channel) ?? [];
      rootsByChannel.set(channel, roots);
      roots.push(ref);
      const inline = inlineBytesOf(ref);
      inlineBytes.set(channel, (inlineBytes.get(channel) ?? 0) + inline);
    };
    let writes = 0;
    let rowBytes = 0;
    /** Blobs a row's own checkpoint or metadata bytes reference (no channel owns them). */
    const rowRoots: string[] = [];
    for (const row of checkpointRows) {
      rowBytes += checkpointRowBytes(row);
      rowRoots.push(...row.blobRefs);
      for (const [channel, { r }] of Object.entries(channelRefsOf(row))) addRoots(channel, r);
      for (const write of await writesOf(rows, row.threadId, row.checkpointNs, row.checkpointId)) {
        writes += 1;
        rowBytes += write.taskId.length + write.channel.length + write.valueRef.length + 8;
        addRoots(
          write.channel,
          parseValueRef(write.valueRef, `write ${write.taskId}/${write.idx}`),
        );
      }
    }
    // History a prune removed but a kept checkpoint still rebuilds its DeltaChannel from.
    for (const retained of await rows.retainedRefs(threadId)) {
      rowBytes += retained.channel.length + retained.valueRef.length + 8;
      addRoots(
        retained.channel,
        parseValueRef(retained.valueRef, `retained history of ${retained.channel}`),
      );
    }
    const threadReached = nothingReached();
    let threadBytes = rowBytes + (await graph.reach({ blobIds: rowRoots }, threadReached)).bytes;
    await graph.reach({ blobIds: rowRoots }, everything);
    const channels: ChannelStorage[] = [];
    for (const [channel, refs] of rootsByChannel) {
      const inline = inlineBytes.get(channel) ?? 0;
      const own = await graph.reach({ refs }, nothingReached());
      channels.push({ channel, bytes: own.bytes + inline, pieces: own.pieces });
      threadBytes += (await graph.reach({ refs }, threadReached)).bytes;
      const global = byChannel.get(channel) ?? { reached: nothingReached(), bytes: 0, pieces: 0 };
      byChannel.set(channel, global);
      const added = await graph.reach({ refs }, global.reached);
      global.bytes += added.bytes + inline;
      global.pieces += added.pieces;
      await graph.reach({ refs }, everything);
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

  const totals = graph.totals(everything);
  // Orphans are what the one liveness walk leaves out, never this accounting's own reach.
  const { orphanBlobs, blobCount, blobBytes } = await saver.garbage();
  return {
    threads: threads.sort((a, b) => b.bytes - a.bytes),
    channels: [...byChannel]
      .map(([channel, { bytes, pieces }]) => ({ channel, bytes, pieces }))
      .sort((a, b) => b.bytes - a.bytes),
    reachableBytes: rowBytesTotal + totals.bytes,
    blobCount,
    blobBytes,
    orphanBlobs,
    orphanBlobBytes: orphanBlobs.reduce((sum, blob) => sum + blob.bytes, 0),
    missingPieces: totals.missing,
    damagedPieces: totals.damaged,
  };
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
