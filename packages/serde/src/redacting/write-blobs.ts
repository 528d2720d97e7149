/**
 * The write phase: stores the blobs a set of prepared payloads references. Planning has already
 * refused everything that can be refused (unserializable values, oversized payloads), so a
 * failure here is I/O, and leaves at most unreferenced, content-addressed blobs behind.
 */
import type { BlobStore } from "../blob-store.js";
import { type BlobsWrittenEvent, blobsWrittenChannel } from "../diagnostics.js";
import { LeangraphError, SerdeErrorCode } from "../errors.js";
import type { PendingBlob } from "./pending-blobs.js";
import type { WrittenChunkIds } from "./written-chunk-ids.js";

/** A failed write is tried this many times (see writeOne). */
const writeAttempts = 3;

export async function writePendingBlobs(
  store: BlobStore,
  blobs: Iterable<PendingBlob>,
  writtenChunks: WrittenChunkIds,
): Promise<void> {
  // Sequential: peak memory stays at one blob's worth of buffers, and a store is never asked to
  // verify the same content twice at once.
  const counts: BlobsWrittenEvent = { written: 0, bytesWritten: 0, deduplicated: 0 };
  for (const blob of blobs) {
    if (blob.knownStored && (await store.has(blob.id))) {
      counts.deduplicated += 1;
    } else {
      counts.bytesWritten += await writeOne(store, blob);
      counts.written += 1;
    }
    if (blob.chunk) writtenChunks.add(blob.id);
  }
  if (blobsWrittenChannel.hasSubscribers && counts.written + counts.deduplicated > 0)
    blobsWrittenChannel.publish(counts);
}

/**
 * A store that finds the content already there verifies it; a gc in another process may delete
 * that orphan while it does, which the store reports as a failed write. The content is still in
 * hand, so trying again is right; a disk that stays full fails every attempt and is reported.
 */
async function writeOne(store: BlobStore, blob: PendingBlob): Promise<number> {
  let id: string;
  let bytes: number;
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (blob.content instanceof Uint8Array) {
        id = await store.put(blob.content);
        bytes = blob.content.byteLength;
      } else {
        ({ id, bytes } = await store.putStream(blob.content()));
      }
      break;
    } catch (error) {
      const retriable =
        error instanceof LeangraphError && error.code === SerdeErrorCode.blobWriteFailed;
      if (!retriable || attempt >= writeAttempts) throw error;
    }
  }
  if (id !== blob.id) {
    throw new LeangraphError(
      SerdeErrorCode.blobWriteFailed,
      `The blob store stored blob ${blob.id} under the id ${id}.`,
      {
        hint: "A BlobStore must name every blob by the content ids it reports (contentIds; the sha256 hex of its bytes when it reports none).",
      },
    );
  }
  return bytes;
}
