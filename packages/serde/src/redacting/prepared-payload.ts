import type { PendingBlob } from "./pending-blobs.js";

/**
 * A value serialized but not yet stored: the payload bytes, and the blobs those bytes reference
 * (every one, transitively: blobs inside JSON blobs too). Nothing has been written: hand it to
 * `RedactingSerializer.writeBlobs` before storing `bytes` anywhere that is read back.
 */
export interface PreparedPayload {
  readonly type: string;
  readonly bytes: Uint8Array;
  /** The blobs the payload's bytes name directly, each once. Empty when it names none. */
  readonly blobIds: readonly string[];
  /**
   * For every blob the payload needs that names other blobs (a JSON blob, a chunk list): the
   * blobs it names directly. A fact about content (a blob's id fixes its bytes, so its children),
   * so it can be recorded once per blob rather than in every row that references it.
   */
  readonly blobChildren: ReadonlyMap<string, readonly string[]>;
}

/** Every blob a payload needs: what it names and, recursively, what those name. */
export function blobClosureOf(payload: PreparedPayload): string[] {
  const closure = new Set<string>();
  const pending = [...payload.blobIds];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (closure.has(id)) continue;
    closure.add(id);
    pending.push(...(payload.blobChildren.get(id) ?? []));
  }
  return [...closure];
}

/** What writeBlobs needs and callers must not: kept outside the payload object. */
const pendingByPayload = new WeakMap<PreparedPayload, readonly PendingBlob[]>();

const noChildren: ReadonlyMap<string, readonly string[]> = new Map();

/**
 * `pending`: every blob the payload needs (written or confirmed by writeBlobs); `direct` and
 * `children` describe how the payload reaches them.
 */
export function preparedPayload(
  type: string,
  bytes: Uint8Array,
  pending: readonly PendingBlob[],
  direct: readonly string[] = [],
  children: ReadonlyMap<string, readonly string[]> = noChildren,
): PreparedPayload {
  const payload: PreparedPayload = Object.freeze({
    type,
    bytes,
    blobIds: Object.freeze([...direct]),
    blobChildren: children,
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
