/**
 * Every error this package raises carries a stable `code` (callers and tests switch on it, never
 * on message text), the underlying `cause`, and where it helps a `hint` telling the user what to
 * do. Same shape as `LeangraphError` in @leangraph/serde; kept local so this package has no
 * dependency on the serializer.
 */
export class WorkersError extends Error {
  readonly code: WorkersErrorCode;
  readonly hint: string | undefined;

  constructor(
    code: WorkersErrorCode,
    message: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WorkersError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** Stable codes raised by @leangraph/workers. */
export const WorkersErrorCode = {
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
  /** An LG_* flag or option with an invalid value. */
  invalidOption: "ERR_LG_INVALID_OPTION",
} as const;

export type WorkersErrorCode = (typeof WorkersErrorCode)[keyof typeof WorkersErrorCode];

/** The codes a step can fail with; these are the values a retry policy may name. */
export type StepErrorCode = Exclude<
  WorkersErrorCode,
  typeof WorkersErrorCode.idleWorkerFailed | typeof WorkersErrorCode.invalidOption
>;

/**
 * A step that did not produce its output. `attempts` counts the runs made (more than one when a
 * retry policy applied); `stepLabel` names the module export so logs point at the culprit.
 */
export class StepError extends WorkersError {
  declare readonly code: StepErrorCode;
  readonly stepLabel: string;
  attempts: number;
  /** The worker thread that ran the failing attempt, when known. */
  readonly threadId: number | undefined;

  constructor(
    code: StepErrorCode,
    message: string,
    options: { cause?: unknown; hint?: string; stepLabel: string; threadId?: number },
  ) {
    super(code, message, options);
    this.name = "StepError";
    this.stepLabel = options.stepLabel;
    this.attempts = 1;
    this.threadId = options.threadId;
  }
}

/**
 * An error as plain data. Structured clone (the only road out of a worker) keeps `message` and
 * `stack` of an Error but drops custom properties such as `code`, so the worker flattens errors
 * to this shape and the main thread rebuilds them.
 */
export interface ErrorData {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
}

export function errorToData(error: unknown): ErrorData {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === "string" || typeof code === "number" ? String(code) : undefined,
    };
  }
  return { name: "NonError", message: String(error), stack: undefined, code: undefined };
}

/** Rebuilds an Error from data, keeping name, message, stack and code as they were thrown. */
export function errorFromData(data: ErrorData): Error & { code?: string } {
  const error = new Error(data.message) as Error & { code?: string };
  error.name = data.name;
  error.stack = data.stack ?? `${data.name}: ${data.message}`;
  if (data.code !== undefined) error.code = data.code;
  return error;
}
