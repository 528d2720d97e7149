import { LeangraphError, SerdeErrorCode } from "@leangraph/serde";

/** Stable codes raised by @leangraph/checkpointer; callers and tests switch on these, never on text. */
export const CheckpointerErrorCode = {
  /** A RunnableConfig lacks a field the operation needs (thread_id, checkpoint_id). */
  configInvalid: "ERR_LG_CHECKPOINT_CONFIG_INVALID",
  /** A stored row or tree node that cannot be decoded (hand-edited or damaged database). */
  rowCorrupt: "ERR_LG_CHECKPOINT_ROW_CORRUPT",
  /** A row references an item that is no longer stored. */
  itemMissing: "ERR_LG_CHECKPOINT_ITEM_MISSING",
  /** An item body read from the database does not hash to its id (flipped byte, truncation). */
  itemCorrupt: "ERR_LG_CHECKPOINT_ITEM_CORRUPT",
  /** An LG_* flag or saver option with an invalid value. */
  invalidOption: "ERR_LG_INVALID_OPTION",
  /** storageStats was asked of a saver that cannot report it (a plain stock saver). */
  storageUnmeasurable: "ERR_LG_STORAGE_UNMEASURABLE",
  /** The Postgres schema is newer than this code knows (a newer leangraph ran migrations). */
  schemaTooNew: "ERR_LG_CHECKPOINT_SCHEMA_TOO_NEW",
  /** The database failed (I/O error, full disk, dropped connection); `cause` is the driver's error. */
  storageFailed: "ERR_LG_CHECKPOINT_STORAGE_FAILED",
  /** A migration could not complete (a blob it must read is unreadable); nothing was changed. */
  migrationFailed: "ERR_LG_CHECKPOINT_MIGRATION_FAILED",
} as const;

export type CheckpointerErrorCode =
  (typeof CheckpointerErrorCode)[keyof typeof CheckpointerErrorCode];

export function configInvalidError(message: string): LeangraphError {
  return new LeangraphError(CheckpointerErrorCode.configInvalid, message, {
    hint: 'Pass { configurable: { thread_id: "..." } } to invoke/stream; LangGraph fills in checkpoint_id.',
  });
}

export function rowCorruptError(what: string, cause?: unknown): LeangraphError {
  return new LeangraphError(CheckpointerErrorCode.rowCorrupt, `Stored ${what} cannot be decoded.`, {
    cause,
    hint: "The database was modified outside leangraph or is damaged; restore it from a backup.",
  });
}

export function itemMissingError(itemId: string): LeangraphError {
  return new LeangraphError(
    CheckpointerErrorCode.itemMissing,
    `Checkpoint item ${itemId} is referenced but not stored.`,
    { hint: "Something deleted rows or blobs behind the saver's back (a manual DELETE, rm -rf)." },
  );
}

/** `where` names what was being read (thread, checkpoint, channel or write) when known. */
export function itemCorruptError(itemId: string, where: string | undefined): LeangraphError {
  return new LeangraphError(
    CheckpointerErrorCode.itemCorrupt,
    `Checkpoint item ${itemId}${where === undefined ? "" : ` (${where})`} does not match its sha256 id: its stored body was altered.`,
    {
      hint: "The database was modified outside leangraph or is damaged; restore it from a backup.",
    },
  );
}

/**
 * Same code as the serializer's own refusal (callers switch on ERR_LG_UNSERIALIZABLE), but raised
 * before any serializer call of the put, naming the channel or write and the exact position.
 */
export function unstorableError(where: string, found: string, cause: unknown): LeangraphError {
  return new LeangraphError(
    SerdeErrorCode.unserializable,
    `Cannot store ${where}: ${found}, which has no lossless JSON form. Nothing was written.`,
    {
      cause,
      hint: "Keep only data in graph state (strings, numbers, plain objects, messages …); break cycles or store an id instead.",
    },
  );
}
