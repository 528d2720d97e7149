import { LeangraphError, WorkersErrorCode } from "@leangraph/errors";

// The one error class and every code live in @leangraph/errors; re-exported here so users of
// this package find them where they use it.
export { LeangraphError, WorkersErrorCode };

/** Codes of the pool itself (its configuration, its idle workers), never of a step. */
const poolCodes = [
  WorkersErrorCode.driverMissing,
  WorkersErrorCode.idleWorkerFailed,
  WorkersErrorCode.invalidOption,
  WorkersErrorCode.workerEntryMissing,
] as const;

/** The codes a step can fail with; these are the values a retry policy may name. */
export type StepErrorCode = Exclude<WorkersErrorCode, (typeof poolCodes)[number]>;

export const stepErrorCodes = Object.values(WorkersErrorCode).filter(
  (code): code is StepErrorCode => !(poolCodes as readonly string[]).includes(code),
) as [StepErrorCode, ...StepErrorCode[]];

/**
 * A step that did not produce its output. `attempts` counts the runs made (more than one when a
 * retry policy applied); `stepLabel` names the module export so logs point at the culprit.
 */
export class StepError extends LeangraphError {
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
