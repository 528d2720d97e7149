/**
 * Errors the demo raises. They follow the house shape (stable `code`, `cause`, optional `hint`)
 * so the CLI can print a useful line and tests can switch on `code`.
 */
export class DemoError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DemoError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** Stable codes raised by @leangraph/demo-agent. */
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
} as const;
