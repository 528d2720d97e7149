import type { BlobStore } from "./blob-store.js";
import { parseManifest } from "./redacting/chunk-manifest.js";
import { isContainerKind, maxReferenceBytes, referencesInBytes } from "./reference-format.js";

/**
 * Every blob a payload depends on, following references inside externalized JSON blobs (kinds
 * `j`, `a`, `o`) transitively and into the chunk lists of `c` blobs, streaming them so a 1.5 GB array blob is never held in memory.
 * It may over-report (a user string that merely contains reference text counts), never
 * under-report: a JSON blob it cannot read (missing, damaged, I/O error) fails the call, because
 * what that blob references cannot be known.
 */
export async function collectReferencedBlobIds(
  payload: Uint8Array | string,
  store: BlobStore,
): Promise<Set<string>> {
  const found = new Set<string>();
  const toFollow: string[] = [];
  const manifests: string[] = [];
  const visit = (bytes: Uint8Array) => {
    for (const { kind, id } of referencesInBytes(bytes)) {
      if (found.has(id)) continue;
      found.add(id);
      if (isContainerKind(kind)) toFollow.push(id);
      else if (kind === "c") manifests.push(id);
    }
  };
  visit(typeof payload === "string" ? Buffer.from(payload, "utf8") : payload);
  while (toFollow.length > 0) await scanBlob(store, toFollow.pop()!, visit);
  for (const id of manifests)
    for (const chunkId of parseManifest(id, await store.get(id)).chunkIds) found.add(chunkId);
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
