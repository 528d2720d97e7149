import type { PendingBlob } from "./pending-blobs.js";

/**
 * A value serialized but not yet stored: the payload bytes, and the blobs those bytes reference
 * (every one, transitively: blobs inside JSON blobs too). Nothing has been written: hand it to
 * `RedactingSerializer.writeBlobs` before storing `bytes` anywhere that is read back.
 */
export interface PreparedPayload {
  readonly type: string;
  readonly bytes: Uint8Array;
  /** Every blob id the payload needs, each once. Empty when it references none. */
  readonly blobIds: readonly string[];
}

/** What writeBlobs needs and callers must not: kept outside the payload object. */
const pendingByPayload = new WeakMap<PreparedPayload, readonly PendingBlob[]>();

export function preparedPayload(
  type: string,
  bytes: Uint8Array,
  pending: readonly PendingBlob[],
): PreparedPayload {
  const payload: PreparedPayload = Object.freeze({
    type,
    bytes,
    blobIds: Object.freeze(pending.map((blob) => blob.id)),
  });
  pendingByPayload.set(payload, pending);
  return payload;
}

/** The blobs to write for these payloads, each once (a write wins over a mere confirmation). */
export function pendingBlobsOf(payloads: readonly PreparedPayload[]): PendingBlob[] {
  const byId = new Map<string, PendingBlob>();
  for (const payload of payloads) {
    const pending = pendingByPayload.get(payload);
    if (pending === undefined) {
      if (payload.blobIds.length === 0) continue;
      throw new TypeError("writeBlobs takes payloads returned by this package's prepare().");
    }
    for (const blob of pending) {
      const existing = byId.get(blob.id);
      if (existing === undefined || (existing.knownStored && !blob.knownStored))
        byId.set(blob.id, blob);
    }
  }
  return [...byId.values()];
}
