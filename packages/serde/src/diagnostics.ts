/*
 * What the serializer publishes about its work, on node:diagnostics_channel. Nothing is built or
 * sent unless something subscribed (`hasSubscribers`), so an agent that does not watch pays one
 * property read per write. Subscribers (@leangraph/metrics, an APM agent, a test) import the
 * channel names from here: this package owns what its events mean.
 */
import { channel } from "node:diagnostics_channel";

/** Published after each successful write phase that had blobs to store. */
export const BLOBS_WRITTEN_CHANNEL = "leangraph:serde:blobs-written";

export interface BlobsWrittenEvent {
  /** Blobs handed to the store (new content, or content the store verifies it already holds). */
  written: number;
  /** Bytes of those blobs. */
  bytesWritten: number;
  /** Blobs skipped because they were written before and the store still holds them. */
  deduplicated: number;
}

export const blobsWrittenChannel = channel(BLOBS_WRITTEN_CHANNEL);
