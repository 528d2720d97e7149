/*
 * The wire format between the agent's queue pool and `leangraph-worker`: what a BullMQ job
 * carries, what a worker returns, and how a failure's code travels. Both sides import it from
 * here and nowhere else. The queue carries names, ids and small inputs; content travels through
 * the shared blob store, named by its sha256.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { StepError, type StepErrorCode, stepErrorCodes, WorkersErrorCode } from "../errors.js";

/** Bumped when a field changes meaning; a worker refuses a job of another version. */
export const STEP_JOB_VERSION = 1;

const blobId = z.string().regex(/^[0-9a-f]{64}$/);

export const stepJobDataSchema = z.strictObject({
  version: z.literal(STEP_JOB_VERSION),
  /** The registered step: an export name of one of the worker's `--steps` modules. */
  step: z.string().regex(/^[A-Za-z_$][\w$]*$/),
  /** The JSON input, when its JSON text is at most the pool's inline cap… */
  input: z.unknown().optional(),
  /** …else the id of that JSON text in the shared store. */
  inputBlobId: blobId.optional(),
  /** Relative name, only for the step's own context and messages: workers write no files of the agent. */
  outputName: z.string().min(1).max(1024),
  timeoutMs: z.number().int().min(1).max(86_400_000),
  maxOutputBytes: z.number().int().min(1),
  /** Codes worth another attempt; any other failure ends the job at once. */
  retryOn: z.array(z.enum(stepErrorCodes)),
});

export type StepJobData = z.output<typeof stepJobDataSchema>;

export const stepJobResultSchema = z.strictObject({
  /** sha256 of the output, which is its id in the shared store. */
  blobId,
  bytes: z.number().int().min(0),
  heapUsedPeakBytes: z.number().min(0),
  ms: z.number().min(0),
  threadId: z.number().int(),
  /** The `leangraph-worker` that ran it (`--name`, default host:pid). */
  workerId: z.string(),
  /** 1 for a first attempt; counts attempts BullMQ retried, not stalls or re-submissions. */
  attempt: z.number().int().min(1),
  /**
   * Times a worker took this job (BullMQ's attemptsStarted): beyond `attempt` when a worker died
   * under it or handed it back after failing it.
   */
  starts: z.number().int().min(1),
});

export type StepJobResult = z.output<typeof stepJobResultSchema>;

/**
 * The job id of a request: the same request for the same output location is the same job. An
 * agent that resumes after a crash, or re-submits after the queue lost its jobs, therefore adds a
 * job that BullMQ already holds (a no-op) instead of running the step a second time.
 */
export function stepJobId(parts: {
  outputPath: string;
  step: string;
  inputJson: string;
  outputName: string;
}): string {
  const hash = createHash("sha256")
    .update(JSON.stringify([parts.outputPath, parts.step, parts.outputName, parts.inputJson]))
    .digest("hex");
  // Not all digits: BullMQ reserves integer ids for the ones it generates.
  return `step-${hash}`;
}

/** How a worker states a failure so the code survives BullMQ's `failedReason` (a plain string). */
export function failureReason(code: StepErrorCode, message: string): string {
  return `${code}: ${message}`;
}

const reasonPattern = /^(ERR_[A-Z0-9_]+): ([\s\S]*)$/;

/**
 * The `StepError` for a job that ended failed. A reason without a step code did not come from a
 * step: BullMQ's own ("job stalled more than allowable limit" after workers kept dying under it,
 * a lost lock) — the step's worker went away, which the local pool calls ERR_LG_STEP_EXITED.
 */
export function stepErrorFromFailedJob(
  label: string,
  failedReason: string | undefined,
  attempts: number,
): StepError {
  const match = reasonPattern.exec(failedReason ?? "");
  const code = match && (stepErrorCodes as readonly string[]).includes(match[1]!) ? match[1] : null;
  const error =
    code !== null
      ? new StepError(
          code as StepErrorCode,
          `Step ${label} failed on a queue worker: ${match![2]}`,
          {
            stepLabel: label,
          },
        )
      : new StepError(
          WorkersErrorCode.exited,
          `Step ${label} ended without a result: ${failedReason ?? "no reason given"}`,
          {
            stepLabel: label,
            hint: "Workers died while running it more often than their stall limit allows (leangraph-worker --max-stalls).",
          },
        );
  error.attempts = attempts;
  return error;
}
