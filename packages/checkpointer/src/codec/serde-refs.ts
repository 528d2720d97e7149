import { type BlobStore, reservedPrefix } from "@leangraph/serde";

/**
 * Finds the blob references a RedactingSerializer left inside a payload, so mark-and-sweep keeps
 * those blobs alive too (the serializer and the saver share one blob store). The reference format
 * is defined by @leangraph/serde (`"\uE000lg:ref:<kind>:<sha256>"`); we search for its prefix
 * byte-wise, so scanning needs no UTF-8 decode and works across stream chunk boundaries.
 *
 * A ref is returned as `"<kind>:<id>"`. Kinds `j`, `a`, `o` are JSON containers whose blob bytes
 * may hold further references; `s`, `w`, `b` are raw user bytes and are never scanned.
 * A user string that merely contains the pattern makes us keep one blob too many, never too few.
 */
const referencePrefix = Buffer.from(`${reservedPrefix}ref:`, "utf8");
const kindBytes = new Set(["s", "w", "b", "j", "a", "o"].map((kind) => kind.charCodeAt(0)));
const colon = ":".charCodeAt(0);
const idLength = 64;
const hexId = /^[0-9a-f]{64}$/;
/** Bytes after the prefix: kind, colon, id. */
const tailLength = 2 + idLength;

function scanInto(buffer: Buffer, found: Set<string>): void {
  let at = buffer.indexOf(referencePrefix);
  while (at !== -1) {
    const kindAt = at + referencePrefix.byteLength;
    if (
      kindAt + tailLength <= buffer.byteLength &&
      kindBytes.has(buffer[kindAt]!) &&
      buffer[kindAt + 1] === colon
    ) {
      const id = buffer.toString("latin1", kindAt + 2, kindAt + tailLength);
      if (hexId.test(id)) found.add(`${String.fromCharCode(buffer[kindAt]!)}:${id}`);
    }
    at = buffer.indexOf(referencePrefix, at + 1);
  }
}

export function serdeRefsIn(bytes: Uint8Array | string): string[] {
  const buffer =
    typeof bytes === "string"
      ? Buffer.from(bytes, "utf8")
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.indexOf(referencePrefix) === -1) return [];
  const found = new Set<string>();
  scanInto(buffer, found);
  return [...found];
}

export function blobIdOfRef(ref: string): string {
  return ref.slice(2);
}

export function isContainerRef(ref: string): boolean {
  return ref[0] === "j" || ref[0] === "a" || ref[0] === "o";
}

/** Streams a container blob and returns the refs inside it; memory stays at one chunk. */
export async function serdeRefsInBlob(blobStore: BlobStore, blobId: string): Promise<string[]> {
  const found = new Set<string>();
  const overlap = referencePrefix.byteLength + tailLength - 1;
  let carry = Buffer.alloc(0);
  for await (const chunk of blobStore.getStream(blobId)) {
    const window = Buffer.concat([carry, chunk]);
    scanInto(window, found);
    carry = window.subarray(Math.max(0, window.byteLength - overlap));
  }
  return [...found];
}
