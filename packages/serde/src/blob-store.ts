import { createHash } from "node:crypto";
import type { ContentIds } from "./content-ids.js";
import { LeangraphError, SerdeErrorCode } from "./errors.js";

/**
 * The whole contract a blob backend must meet. Blobs are immutable and content-addressed:
 * the id is the lowercase sha256 hex of the bytes (or, for a store that says so through
 * `contentIds`, a keyed id: encryption), so writing the same bytes twice is a no-op and every
 * read can be verified.
 *
 * Each implementation lives in `src/stores/<name>.ts` and passes `testBlobStore()`.
 */
export type BlobId = string;

export interface BlobStat {
  /** Bytes as stored: after compression, so what the blob costs on disk. */
  bytes: number;
  /**
   * When the blob was last written. A `put` of content that is already stored refreshes it, so
   * `gc({ graceMs })` never deletes a blob that a concurrent `put` has just been handed the id of.
   */
  writtenAtMs: number;
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
  /** Size and last write time, or undefined when absent. */
  stat(id: BlobId): Promise<BlobStat | undefined>;
  /** Resolves true when something was deleted. */
  delete(id: BlobId): Promise<boolean>;
  list(): AsyncIterable<BlobId>;
  /**
   * How this store names bodies, so a serializer can name blobs before writing them (its ids
   * must be the ones `put` returns). Optional: a store without it names by sha256
   * (`sha256ContentIds`); an encrypting store answers with keyed ids (`keyedContentIds`).
   */
  contentIds?(): Promise<ContentIds>;
  /**
   * Creates what the store needs (tables, directories); idempotent, safe when several processes
   * start at once. Optional: a saver calls it from its own `setup()` when present.
   */
  setup?(): Promise<void>;
  /** Releases handles/pools; optional. */
  close?(): Promise<void>;
}

/**
 * What a backend keeps beneath a layered BlobStore (see body/layered-blob-store.ts): stored bytes
 * under an id the caller chose. It neither hashes nor verifies: the stored bytes may be compressed
 * or encrypted, so only the wrapper, which sees the plain bytes, can prove them against the id.
 * Ids are validated by the wrapper before any of these is called.
 */
export interface BodyStore {
  /** Keeps `stored` under `id`, replacing whatever is there; durable on resolve. */
  write(id: BlobId, stored: Uint8Array): Promise<void>;
  /**
   * Streams stored bytes in; `idOf()` names the body once the source has ended. When a body is
   * already stored under that id, the streamed copy is dropped and the old one's time refreshed.
   */
  writeStream(stored: AsyncIterable<Uint8Array>, idOf: () => BlobId): Promise<void>;
  /** Refreshes writtenAtMs of a stored body; resolves false when there is none. */
  touch(id: BlobId): Promise<boolean>;
  /** The stored bytes: ERR_LG_BLOB_MISSING when absent, ERR_LG_BLOB_READ_FAILED otherwise. */
  read(id: BlobId): Promise<Uint8Array>;
  readStream(id: BlobId): AsyncIterable<Uint8Array>;
  has(id: BlobId): Promise<boolean>;
  /** Stored size (what it costs) and last write time. */
  stat(id: BlobId): Promise<BlobStat | undefined>;
  delete(id: BlobId): Promise<boolean>;
  list(): AsyncIterable<BlobId>;
  setup?(): Promise<void>;
  close?(): Promise<void>;
}

const requiredBlobStoreMethods = ["put", "putStream", "get", "getStream", "has"] as const;

/** True for any object with the BlobStore methods a serializer calls (what option checks accept). */
export function isBlobStore(value: unknown): value is BlobStore {
  const candidate = value as Record<string, unknown> | null | undefined;
  return requiredBlobStoreMethods.every((name) => typeof candidate?.[name] === "function");
}

const blobIdPattern = /^[0-9a-f]{64}$/;

export function isBlobId(value: unknown): value is BlobId {
  return typeof value === "string" && blobIdPattern.test(value);
}

/**
 * Rejects anything that is not a well-formed id before a store touches its backend, so a
 * reference like `../../etc/passwd` read from a tampered row can never become a path or a query.
 */
export function assertBlobId(value: unknown): asserts value is BlobId {
  if (!isBlobId(value)) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : typeof value;
    throw new LeangraphError(
      SerdeErrorCode.blobIdInvalid,
      `Invalid blob id ${shown}: expected 64 lowercase hex characters (a sha256 digest).`,
    );
  }
}

export function sha256Hex(bytes: Uint8Array): BlobId {
  return createHash("sha256").update(bytes).digest("hex");
}

export function blobMissingError(id: BlobId, cause?: unknown): LeangraphError {
  return new LeangraphError(SerdeErrorCode.blobMissing, `Blob ${id} is missing from the store.`, {
    cause,
    hint: "The blob store was pruned, moved or pointed at another directory; check LG_BLOB_DIR.",
  });
}

/**
 * A read that failed for a reason other than absence (EIO, EACCES, a dropped connection). Never
 * "not there": a caller that took it for absence could delete or overwrite what is still live.
 */
export function blobReadFailedError(what: string, cause: unknown): LeangraphError {
  return new LeangraphError(
    SerdeErrorCode.blobReadFailed,
    `Could not ${what}: ${(cause as Error)?.message ?? String(cause)}`,
    { cause, hint: "Check the disk or the blob store's connection; nothing was changed." },
  );
}

export function blobCorruptError(id: BlobId, actual: string, bytes: number): LeangraphError {
  return new LeangraphError(
    SerdeErrorCode.blobCorrupt,
    `Blob ${id} is corrupt: its ${bytes} bytes hash to ${actual}.`,
    { hint: "The stored file was modified or truncated; restore it from a backup." },
  );
}
