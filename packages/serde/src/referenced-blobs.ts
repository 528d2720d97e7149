import type { BlobStore } from "./blob-store.js";
import { LeangraphError, SerdeErrorCode } from "./errors.js";
import { isContainerKind, maxReferenceBytes, referencesInBytes } from "./reference-format.js";

/**
 * Every blob a payload depends on, following references inside externalized JSON blobs (kinds
 * `j`, `a`, `o`) transitively, streaming them so a 1.5 GB array blob is never held in memory.
 * Meant for a garbage collector: it may over-report (a user string that merely contains reference
 * text keeps that blob alive), never under-report. A referenced blob that is missing is reported
 * and not followed.
 */
export async function collectReferencedBlobIds(
  payload: Uint8Array | string,
  store: BlobStore,
): Promise<Set<string>> {
  const found = new Set<string>();
  const toFollow: string[] = [];
  const visit = (bytes: Uint8Array) => {
    for (const { kind, id } of referencesInBytes(bytes)) {
      if (found.has(id)) continue;
      found.add(id);
      if (isContainerKind(kind)) toFollow.push(id);
    }
  };
  visit(typeof payload === "string" ? Buffer.from(payload, "utf8") : payload);
  while (toFollow.length > 0) {
    const id = toFollow.pop()!;
    try {
      await scanBlob(store, id, visit);
    } catch (error) {
      if (error instanceof LeangraphError && error.code === SerdeErrorCode.blobMissing) continue;
      throw error;
    }
  }
  return found;
}

/**
 * Streams a blob through `visit` in chunks, each preceded by the previous chunk's last
 * `maxReferenceBytes - 1` bytes, so a reference cut by a chunk boundary is seen whole (a
 * reference wholly inside that overlap may be visited twice; callers keep sets).
 */
export async function scanBlob(
  store: BlobStore,
  id: string,
  visit: (bytes: Uint8Array) => void,
): Promise<void> {
  const overlap = maxReferenceBytes - 1;
  let carry = Buffer.alloc(0);
  for await (const chunk of store.getStream(id)) {
    const window = Buffer.concat([carry, chunk]);
    visit(window);
    carry = window.subarray(Math.max(0, window.byteLength - overlap));
  }
}
