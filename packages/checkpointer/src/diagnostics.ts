/*
 * What the lean savers publish about their work, on node:diagnostics_channel. Nothing is built or
 * sent unless something subscribed (`hasSubscribers`), so a saver nobody watches pays one
 * property read per put. Subscribers (@leangraph/metrics, an APM agent, a test) import the channel
 * names from here: this package owns what its events mean. The serializer's blobs are published
 * by @leangraph/serde ("leangraph:serde:blobs-written"), not here.
 */
import { channel } from "node:diagnostics_channel";

/** Published after each committed `put` or `putWrites` of a lean saver. */
export const CHECKPOINT_PUT_CHANNEL = "leangraph:checkpointer:put";

export interface CheckpointPutEvent {
  operation: "put" | "putWrites";
  /** Bytes of the row(s) written: the checkpoint skeleton, metadata and channel refs, or the writes' refs. */
  rowBytes: number;
  /** Items (values, tree nodes, chunks) this put stored that were not stored before. */
  itemsWritten: number;
  /** Bytes of those items, in the database or the blob store. */
  itemBytesWritten: number;
  /** Items this put encoded that were already stored (content-addressed, so kept once). */
  itemsDeduplicated: number;
  /** From the call to the commit. */
  durationMs: number;
}

export const checkpointPutChannel = channel(CHECKPOINT_PUT_CHANNEL);

/** Published after each background retention sweep (LG_RETENTION_*), with what it removed. */
export const RETENTION_SWEEP_CHANNEL = "leangraph:checkpointer:retention-sweep";

export interface RetentionSweepEvent {
  threads: number;
  deletedCheckpoints: number;
  deletedItems: number;
  deletedBlobs: number;
}

export const retentionSweepChannel = channel(RETENTION_SWEEP_CHANNEL);

/** The event for a put that committed now: `inserted` are the items its transaction stored new. */
export function putEvent(
  operation: CheckpointPutEvent["operation"],
  startedMs: number,
  rowBytes: number,
  committed: { plannedItems: number; insertedItems: readonly { bytes: Uint8Array }[] },
): CheckpointPutEvent {
  let itemBytesWritten = 0;
  for (const item of committed.insertedItems) itemBytesWritten += item.bytes.byteLength;
  return {
    operation,
    rowBytes,
    itemsWritten: committed.insertedItems.length,
    itemBytesWritten,
    itemsDeduplicated: committed.plannedItems - committed.insertedItems.length,
    durationMs: performance.now() - startedMs,
  };
}
