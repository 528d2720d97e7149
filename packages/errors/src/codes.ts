/*
 * Every code leangraph raises, each declared here and nowhere else. Callers and tests switch on
 * these strings, so they never change once published; a new failure gets a new code.
 *
 * They are grouped by the package that raises them, so `SerdeErrorCode.blobMissing` reads as
 * where it comes from. A code more than one package raises is declared once, in SharedErrorCode,
 * and spread into each group that uses it.
 */

/** Codes every package raises. */
export const SharedErrorCode = {
  /** An LG_* flag or a constructor/factory option with a value that is not accepted, or an unknown option. */
  invalidOption: "ERR_LG_INVALID_OPTION",
  /**
   * What was asked for needs an optional package that is not installed (better-sqlite3, pg, a
   * stock saver, bullmq/ioredis for the step queue); the message names what to install.
   */
  driverMissing: "ERR_LG_DRIVER_MISSING",
} as const;

/** Codes raised by @leangraph/serde. */
export const SerdeErrorCode = {
  ...SharedErrorCode,
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
  /**
   * Encryption is on but a stored body or row holds no valid envelope header (plaintext planted
   * by hand, or written before encryption was turned on: see `leangraph rekey`).
   */
  notEncrypted: "ERR_LG_ENCRYPTION_NOT_ENCRYPTED",
  /** An envelope names a key id the key ring does not hold; the message names the id. */
  encryptionKeyMissing: "ERR_LG_ENCRYPTION_KEY_MISSING",
  /**
   * The AES-GCM check failed: a flipped byte, a body or row moved to another place, or a key with
   * the right id but the wrong bytes. The message names the place and the key id.
   */
  decryptionFailed: "ERR_LG_ENCRYPTION_DECRYPT_FAILED",
  /**
   * A stored body is compressed with a codec this runtime lacks (zstd before Node 22.15), or
   * LG_COMPRESSION asks this runtime to write one; the message names the codec and the fix.
   */
  bodyCodecUnavailable: "ERR_LG_BODY_CODEC_UNAVAILABLE",
  /** A stored body's header names a format version or codec newer than this reader knows. */
  bodyFormatUnknown: "ERR_LG_BODY_FORMAT_UNKNOWN",
} as const;

/** Codes raised by @leangraph/checkpointer. */
export const CheckpointerErrorCode = {
  ...SharedErrorCode,
  /** A RunnableConfig lacks a field the operation needs (thread_id, checkpoint_id). */
  configInvalid: "ERR_LG_CHECKPOINT_CONFIG_INVALID",
  /** A stored row or tree node that cannot be decoded (hand-edited or damaged database). */
  rowCorrupt: "ERR_LG_CHECKPOINT_ROW_CORRUPT",
  /** A row references an item that is no longer stored. */
  itemMissing: "ERR_LG_CHECKPOINT_ITEM_MISSING",
  /** An item body read from the database does not hash to its id (flipped byte, truncation). */
  itemCorrupt: "ERR_LG_CHECKPOINT_ITEM_CORRUPT",
  /** The Postgres schema is newer than this code knows (a newer leangraph ran migrations). */
  schemaTooNew: "ERR_LG_CHECKPOINT_SCHEMA_TOO_NEW",
  /** A migration could not complete (a blob it must read is unreadable); nothing was changed. */
  migrationFailed: "ERR_LG_CHECKPOINT_MIGRATION_FAILED",
  /** The database failed (I/O error, full disk, dropped connection); `cause` is the driver's error. */
  storageFailed: "ERR_LG_CHECKPOINT_STORAGE_FAILED",
} as const;

/** Codes raised by @leangraph/workers. */
export const WorkersErrorCode = {
  ...SharedErrorCode,
  /** The step's isolate hit its heap cap (`LG_WORKER_HEAP_MB`); Node's own code, kept as is. */
  outOfMemory: "ERR_WORKER_OUT_OF_MEMORY",
  /** The step ran longer than its wall-clock budget; its worker was terminated. */
  timeout: "ERR_LG_STEP_TIMEOUT",
  /** The step function threw or rejected; the original error is the `cause`. */
  failed: "ERR_LG_STEP_FAILED",
  /** The step called `process.exit` (or its thread ended) before returning. */
  exited: "ERR_LG_STEP_EXITED",
  /** The step wrote more than `LG_STEP_MAX_OUTPUT_MB`; nothing was left in the output dir. */
  outputTooLarge: "ERR_LG_STEP_OUTPUT_TOO_LARGE",
  /** The step returned something that is not string, bytes, or an (async) iterable of those. */
  outputInvalid: "ERR_LG_STEP_OUTPUT_INVALID",
  /** The step request or its JSON input was rejected (before or by the step's own schema). */
  inputInvalid: "ERR_LG_STEP_INPUT_INVALID",
  /** The step module could not be imported or does not export the named step. */
  stepNotFound: "ERR_LG_STEP_NOT_FOUND",
  /** Fresh workers keep dying while they boot, so the step could not be started. */
  workerBootFailed: "ERR_LG_WORKER_BOOT_FAILED",
  /** A worker that was not running a step failed (reported as a pool fault, never thrown). */
  idleWorkerFailed: "ERR_LG_WORKER_IDLE_FAILED",
  /** `run()` after `close()`, or a queued step dropped by `close()`. */
  poolClosed: "ERR_LG_POOL_CLOSED",
  /** The package's compiled worker entry is missing (a partial install or a deleted dist/). */
  workerEntryMissing: "ERR_LG_WORKER_ENTRY_MISSING",
  /**
   * The step queue (Redis behind BullMQ) did not answer in time when the pool or a worker
   * started; the message names the host, never a password.
   */
  queueUnreachable: "ERR_LG_STEP_QUEUE_UNREACHABLE",
  /** A step's output came back from the shared store with other bytes than the worker stored. */
  resultCorrupt: "ERR_LG_STEP_RESULT_CORRUPT",
} as const;

/** Codes raised by @leangraph/metrics (the /metrics endpoint and the live dashboard). */
export const MetricsErrorCode = {
  ...SharedErrorCode,
  /**
   * The /metrics endpoint or the dashboard could not listen on its host and port (in use, not an
   * address of this machine, a privileged port); the message names them.
   */
  serveFailed: "ERR_LG_METRICS_SERVE_FAILED",
} as const;

/** Codes raised by the demo agent (apps/demo-agent, `leangraph-demo`). */
export const DemoErrorCode = {
  /** A command-line option with a value the demo does not accept. */
  invalidOption: "ERR_LG_DEMO_INVALID_OPTION",
  /** A generated file that no longer matches the hash recorded in the checkpoint. */
  outputChanged: "ERR_LG_DEMO_OUTPUT_CHANGED",
  /** A `--compare` child process that exited without a result. */
  compareRunFailed: "ERR_LG_DEMO_COMPARE_RUN_FAILED",
  /** A resumed thread whose checkpoint holds no plan (not a demo thread). */
  unknownThread: "ERR_LG_DEMO_UNKNOWN_THREAD",
  /**
   * A directory the run must write to (LG_SQLITE_PATH's, LG_BLOB_DIR, the run dir) that cannot be
   * created, found before anything is written.
   */
  unusablePath: "ERR_LG_DEMO_UNUSABLE_PATH",
  /** A generation step failed with an error that carried no code of its own. */
  stepFailed: "ERR_LG_DEMO_STEP_FAILED",
} as const;

/** Codes raised by the `leangraph` command (@leangraph/cli). */
export const CliErrorCode = {
  ...SharedErrorCode,
  /** Unknown command or flag, a missing argument, or a flag given twice where once is allowed. */
  usage: "ERR_LG_CLI_USAGE",
  /** The database file or schema named on the command line holds no checkpoint tables. */
  databaseNotFound: "ERR_LG_CLI_DATABASE_NOT_FOUND",
  /** The database is of a kind this command does not take (e.g. `verify` on a stock database). */
  wrongDatabaseKind: "ERR_LG_CLI_WRONG_DATABASE_KIND",
  /** An imported thread reads back different from its source. */
  importMismatch: "ERR_LG_CLI_IMPORT_MISMATCH",
  /** Stopped by SIGINT at a safe point. */
  interrupted: "ERR_LG_CLI_INTERRUPTED",
} as const;

type ValueOf<T> = T[keyof T];

export type SharedErrorCode = ValueOf<typeof SharedErrorCode>;
export type SerdeErrorCode = ValueOf<typeof SerdeErrorCode>;
export type CheckpointerErrorCode = ValueOf<typeof CheckpointerErrorCode>;
export type WorkersErrorCode = ValueOf<typeof WorkersErrorCode>;
export type MetricsErrorCode = ValueOf<typeof MetricsErrorCode>;
export type DemoErrorCode = ValueOf<typeof DemoErrorCode>;
export type CliErrorCode = ValueOf<typeof CliErrorCode>;

/** Any code a LeangraphError can carry. */
export type LeangraphErrorCode =
  | SerdeErrorCode
  | CheckpointerErrorCode
  | CliErrorCode
  | WorkersErrorCode
  | MetricsErrorCode
  | DemoErrorCode;

/** Every group by the package that raises it: for docs, CLIs and the test that keeps codes unique. */
export const errorCodesByPackage = {
  shared: SharedErrorCode,
  serde: SerdeErrorCode,
  checkpointer: CheckpointerErrorCode,
  workers: WorkersErrorCode,
  metrics: MetricsErrorCode,
  demo: DemoErrorCode,
  cli: CliErrorCode,
} as const;
