/*
 * What the step pool publishes about its work, on node:diagnostics_channel. Nothing is built or
 * sent unless something subscribed (`hasSubscribers`), so a pool nobody watches pays one property
 * read per step. Subscribers (@leangraph/metrics, an APM agent, a test) import the channel names
 * from here: this package owns what its events mean. Channels are process-wide: a subscriber
 * sees the steps of every pool in the process, including pools a library created.
 */
import { channel } from "node:diagnostics_channel";

/** Published once per step when `run()` settles, after any retries. */
export const STEP_SETTLED_CHANNEL = "leangraph:workers:step-settled";

export interface StepSettledEvent {
  /** The step function's export name: code, not data, so few distinct values (a fair metric label). */
  exportName: string;
  /** `exportName -> outputName`, as errors name the step. Holds data: never a metric label. */
  label: string;
  outcome: "succeeded" | "failed";
  /** The failure's code (`ERR_LG_STEP_TIMEOUT`, `ERR_WORKER_OUT_OF_MEMORY`, …); undefined on success. */
  code: string | undefined;
  /**
   * From `run()` to settling, as the caller waits: time in the pool's queue, a fresh isolate's
   * boot when no spare was ready, and every attempt.
   */
  durationMs: number;
  attempts: number;
  /** Peak heap of the isolate that ran the successful attempt; undefined on failure. */
  heapUsedPeakBytes: number | undefined;
  /** Bytes the step wrote; undefined on failure. */
  outputBytes: number | undefined;
  mode: "workers" | "in-process" | "queue";
}

export const stepSettledChannel = channel(STEP_SETTLED_CHANNEL);

/** The event for a step that settled now, having started at `startedMs` (performance.now()). */
export function settledEvent(
  step: { exportName: string },
  label: string,
  mode: StepSettledEvent["mode"],
  startedMs: number,
  attempts: number,
  settled: { result: { heapUsedPeakBytes: number; bytes: number } } | { error: unknown },
): StepSettledEvent {
  const durationMs = performance.now() - startedMs;
  if ("result" in settled) {
    const { heapUsedPeakBytes, bytes } = settled.result;
    return {
      exportName: step.exportName,
      label,
      outcome: "succeeded",
      code: undefined,
      durationMs,
      attempts,
      heapUsedPeakBytes,
      outputBytes: bytes,
      mode,
    };
  }
  const code = (settled.error as { code?: unknown } | null)?.code;
  return {
    exportName: step.exportName,
    label,
    outcome: "failed",
    code: typeof code === "string" ? code : "unknown",
    durationMs,
    attempts,
    heapUsedPeakBytes: undefined,
    outputBytes: undefined,
    mode,
  };
}

/** Published when an isolate of a step pool has booted (loaded its entry, preloads and warm-up). */
export const ISOLATE_BOOTED_CHANNEL = "leangraph:workers:isolate-booted";

export interface IsolateBootedEvent {
  /** The pool's `name` option ("steps" unless given). */
  pool: string;
  threadId: number;
  /** `performance.now()` in the pool's thread when the pool first saw the isolate's thread. */
  startedMs: number;
  /** From then until the isolate said it is ready for a step: what a fresh isolate costs here. */
  bootMs: number;
}

export const isolateBootedChannel = channel(ISOLATE_BOOTED_CHANNEL);
