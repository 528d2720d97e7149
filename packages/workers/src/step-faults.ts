import type { StepErrorCode } from "./errors.js";
import { type ErrorData, errorFromData, StepError, WorkersErrorCode } from "./errors.js";

const HINTS: Partial<Record<StepErrorCode, string>> = {
  [WorkersErrorCode.outOfMemory]:
    "The step needs more heap than LG_WORKER_HEAP_MB allows: raise it, or stream the output as chunks instead of building it whole.",
  [WorkersErrorCode.timeout]:
    "Raise LG_STEP_TIMEOUT_MS (or the step's timeoutMs), or split the step.",
  [WorkersErrorCode.exited]:
    "Steps must return their content; process.exit() ends the step's worker thread.",
  [WorkersErrorCode.outputTooLarge]:
    "Raise LG_STEP_MAX_OUTPUT_MB, or split the output across several steps.",
  [WorkersErrorCode.stepNotFound]:
    "modulePath must be an ES module (absolute path or file: URL) exporting the named step.",
};

/** Rebuilds the typed error for a failure the worker reported as data. */
export function stepErrorFromOutcome(
  label: string,
  outcome: { code: StepErrorCode; error: ErrorData; threadId: number },
): StepError {
  const cause = errorFromData(outcome.error);
  const hint = HINTS[outcome.code];
  return new StepError(outcome.code, `Step ${label}: ${outcome.error.message}`, {
    cause,
    stepLabel: label,
    threadId: outcome.threadId,
    ...(hint === undefined ? {} : { hint }),
  });
}

const PISCINA_EXIT_MESSAGE = /^worker exited with code: (-?\d+)/;

/**
 * Maps a rejection from piscina (the step's worker died or was stopped before it could report)
 * to a typed error. These come from the main thread's side, so Node's own `code` survives.
 */
export function stepErrorFromRejection(
  label: string,
  error: unknown,
  context: { timedOutAfterMs: number | undefined; closing: boolean },
): StepError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (context.timedOutAfterMs !== undefined) {
    return new StepError(
      WorkersErrorCode.timeout,
      `Step ${label} ran past its ${context.timedOutAfterMs} ms budget; its worker was terminated`,
      { cause: error, stepLabel: label, hint: HINTS[WorkersErrorCode.timeout] as string },
    );
  }
  if (code === WorkersErrorCode.outOfMemory) {
    return new StepError(
      WorkersErrorCode.outOfMemory,
      `Step ${label} ran out of heap in its isolate: ${message}`,
      { cause: error, stepLabel: label, hint: HINTS[WorkersErrorCode.outOfMemory] as string },
    );
  }
  const exit = PISCINA_EXIT_MESSAGE.exec(message);
  if (exit !== null) {
    return new StepError(
      WorkersErrorCode.exited,
      `Step ${label} ended its worker (exit code ${exit[1]}) before returning`,
      { cause: error, stepLabel: label, hint: HINTS[WorkersErrorCode.exited] as string },
    );
  }
  if (context.closing) {
    return new StepError(WorkersErrorCode.poolClosed, `Step ${label} stopped: the pool closed`, {
      cause: error,
      stepLabel: label,
    });
  }
  return new StepError(WorkersErrorCode.failed, `Step ${label} failed in its worker: ${message}`, {
    cause: error,
    stepLabel: label,
  });
}
