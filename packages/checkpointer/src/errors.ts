import { CheckpointerErrorCode, LeangraphError, SerdeErrorCode } from "@leangraph/errors";

// Codes are declared once, in @leangraph/errors; re-exported so this package's users find them here.
export { CheckpointerErrorCode };

export function configInvalidError(message: string): LeangraphError {
  return new LeangraphError(CheckpointerErrorCode.configInvalid, message, {
    hint: 'Pass { configurable: { thread_id: "..." } } to invoke/stream; LangGraph fills in checkpoint_id.',
  });
}

/**
 * A database migrated by a newer leangraph. Older code must not run on it: a later migration may
 * have changed how rows are stored (SQLite ids as bytes, for one), and writes in the old form
 * would mix with the new ones.
 */
export function schemaTooNewError(database: string, newest: number, known: number, hint: string) {
  return new LeangraphError(
    CheckpointerErrorCode.schemaTooNew,
    `${database} is at migration ${newest}, newer than this @leangraph/checkpointer knows (${known}).`,
    { hint },
  );
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
    `Checkpoint item ${itemId}${where === undefined ? "" : ` (${where})`} does not match its id: its stored body was altered.`,
    {
      hint: "The database was modified outside leangraph or is damaged; restore it from a backup.",
    },
  );
}

/**
 * A serializer type tag a tree entry cannot hold (one length byte). Raised while a put plans its
 * values, before anything is written; same code as any other value that cannot be stored.
 */
export function typeTagTooLongError(tag: string, bytes: number): LeangraphError {
  return new LeangraphError(
    SerdeErrorCode.unserializable,
    `Cannot store a value whose serializer type tag is ${bytes} bytes long (${JSON.stringify(tag.slice(0, 40))}…): a stored entry holds tags of at most 255 bytes. Nothing was written.`,
    { hint: 'Use a serializer whose type tags are short names (JsonPlusSerializer: "json").' },
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
