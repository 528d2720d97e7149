/**
 * Every error leangraph raises carries a stable `code` (tests and callers switch on it, never on
 * message text), the underlying `cause`, and where it helps a `hint` telling the user what to do.
 */
export class LeangraphError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LeangraphError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** Stable codes raised by @leangraph/serde. */
export const SerdeErrorCode = {
  /** A blob id that is not 64 lowercase hex chars; rejected before the filesystem is touched. */
  blobIdInvalid: "ERR_LG_BLOB_ID_INVALID",
  /** A referenced blob is not in the store. */
  blobMissing: "ERR_LG_BLOB_MISSING",
  /** A blob's bytes do not hash to its id (flipped byte, truncation). */
  blobCorrupt: "ERR_LG_BLOB_CORRUPT",
  /** Writing or deleting a blob failed (read-only dir, disk full); nothing references it. */
  blobWriteFailed: "ERR_LG_BLOB_WRITE_FAILED",
  /** Reading, listing or checking a blob failed for a reason other than its absence (EIO). */
  blobReadFailed: "ERR_LG_BLOB_READ_FAILED",
  /** A value that cannot be stored losslessly (function, symbol, cycle, …). */
  unserializable: "ERR_LG_UNSERIALIZABLE",
  /** The payload still exceeds maxPayloadBytes after externalizing everything that can be. */
  payloadTooLarge: "ERR_LG_PAYLOAD_TOO_LARGE",
  /** A stored payload or reference that cannot be decoded. */
  payloadCorrupt: "ERR_LG_PAYLOAD_CORRUPT",
  /** An LG_* flag or option with an invalid value. */
  invalidOption: "ERR_LG_INVALID_OPTION",
} as const;

export type SerdeErrorCode = (typeof SerdeErrorCode)[keyof typeof SerdeErrorCode];
