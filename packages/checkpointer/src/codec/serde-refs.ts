import type { BlobStore } from "@leangraph/serde";
import {
  type BlobKind,
  isContainerKind,
  referencesInBytes,
  scanBlob,
} from "@leangraph/serde/internal";

/**
 * The blob references a RedactingSerializer left inside a payload, so mark-and-sweep keeps those
 * blobs alive too (the serializer and the saver share one blob store). @leangraph/serde owns the
 * reference format and finds them; here a ref is kept as `"<kind>:<id>"`, which is what item rows
 * store. Kinds `j`, `a`, `o` are JSON containers whose blob may hold further references.
 */
function asRefs(found: readonly { kind: BlobKind; id: string }[]): string[] {
  if (found.length === 0) return [];
  return [...new Set(found.map(({ kind, id }) => `${kind}:${id}`))];
}

export function serdeRefsIn(bytes: Uint8Array | string): string[] {
  return asRefs(referencesInBytes(typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes));
}

export function blobIdOfRef(ref: string): string {
  return ref.slice(2);
}

export function isContainerRef(ref: string): boolean {
  return isContainerKind(ref[0] as BlobKind);
}

/** Streams a container blob and returns the refs inside it; memory stays at one chunk. */
export async function serdeRefsInBlob(blobStore: BlobStore, blobId: string): Promise<string[]> {
  const found: { kind: BlobKind; id: string }[] = [];
  await scanBlob(blobStore, blobId, (window) => found.push(...referencesInBytes(window)));
  return asRefs(found);
}
