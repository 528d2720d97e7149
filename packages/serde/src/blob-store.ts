/**
 * The whole contract a blob backend must meet. Blobs are immutable and content-addressed:
 * the id is the lowercase sha256 hex of the bytes, so writing the same bytes twice is a no-op
 * and every read can be verified.
 *
 * Each implementation lives in `src/stores/<name>.ts` and passes `testBlobStore()`.
 */
export type BlobId = string;

export interface BlobStat {
  bytes: number;
  /** When the blob was first written; `gc({ graceMs })` spares younger blobs. */
  createdAtMs: number;
}

export interface BlobStore {
  /** Stores bytes and resolves once they are durable (fsynced); idempotent per content. */
  put(bytes: Uint8Array): Promise<BlobId>;
  /** Streams bytes in, hashing as they arrive; durable on resolve. For values too big for one buffer. */
  putStream(source: AsyncIterable<Uint8Array>): Promise<{ id: BlobId; bytes: number }>;
  /** Reads and verifies a blob: ERR_LG_BLOB_MISSING, ERR_LG_BLOB_CORRUPT, ERR_LG_BLOB_ID_INVALID. */
  get(id: BlobId): Promise<Uint8Array>;
  /** Streams a blob; the stream errors with ERR_LG_BLOB_CORRUPT if the hash does not match at the end. */
  getStream(id: BlobId): AsyncIterable<Uint8Array>;
  has(id: BlobId): Promise<boolean>;
  /** Size and age, or undefined when absent. */
  stat(id: BlobId): Promise<BlobStat | undefined>;
  /** Resolves true when something was deleted. */
  delete(id: BlobId): Promise<boolean>;
  list(): AsyncIterable<BlobId>;
  /** Releases handles/pools; optional. */
  close?(): Promise<void>;
}

const blobIdPattern = /^[0-9a-f]{64}$/;

export function isBlobId(value: unknown): value is BlobId {
  return typeof value === "string" && blobIdPattern.test(value);
}
