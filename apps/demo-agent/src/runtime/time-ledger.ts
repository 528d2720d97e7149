import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { ISOLATE_BOOTED_CHANNEL, type IsolateBootedEvent } from "@leangraph/workers";

/**
 * Where a run's time goes, as `--compare` shows it. Each category is a set of intervals on this
 * process's clock (`performance.now()`, 0 = process start); the parts overlap by design (a
 * review runs while the next wave waits on its model), so each is reported as the wall time
 * during which at least one of its kind was in flight, not as a share of a sum.
 */
export const TIME_CATEGORIES = [
  "modelWait",
  "generation",
  "isolateBoot",
  "review",
  "checkpointing",
] as const;

export type TimeCategory = (typeof TIME_CATEGORIES)[number];

export const TIME_CATEGORY_LABELS: Record<TimeCategory, string> = {
  modelWait: "waiting on the model",
  generation: "generation (render + write)",
  isolateBoot: "fresh isolate boot",
  review: "review (parse as TS)",
  checkpointing: "checkpointing (a write in flight)",
};

/** One category of the breakdown. */
export interface CategoryTime {
  /** Wall time during which at least one was in flight. */
  inFlightMs: number;
  /** Sum over all of them (more than `inFlightMs` when they ran side by side). */
  totalMs: number;
  count: number;
  /** The in-flight time as [startMs, endMs] spans, for the report's lanes; tiny gaps closed. */
  spans: Array<[number, number]>;
}

export interface TimeBreakdown {
  /** Process start to the end of the run (what the lanes span). */
  elapsedMs: number;
  /** Process start to the run's start: loading modules, parsing options. */
  startupMs: number;
  categories: Record<TimeCategory, CategoryTime>;
  /**
   * Boot times of the generation steps' fresh isolates in this run, from the pool's own events:
   * what isolation costs per step here. Empty when steps ran in-process.
   */
  isolateBoot: { count: number; medianMs: number };
}

/** Name of the step pool whose isolates are the fresh per-step ones (see runtime/steps.ts). */
export const GENERATION_POOL_NAME = "generate";

/** Spans are drawn about 1000 px wide: gaps under this fraction of the run are not visible. */
const SPAN_RESOLUTION = 1 / 2000;

export interface TimeLedger {
  record(category: TimeCategory, startMs: number, endMs: number): void;
  /** Runs `work` and records its wall time under `category`. */
  measure<T>(category: TimeCategory, work: () => Promise<T>): Promise<T>;
  breakdown(): TimeBreakdown;
  /** Stops listening to the step pool's boot events. */
  close(): void;
}

export function createTimeLedger(options: { runStartMs: number }): TimeLedger {
  const intervals = new Map<TimeCategory, Array<[number, number]>>(
    TIME_CATEGORIES.map((category) => [category, []]),
  );
  const bootMs: number[] = [];
  const record = (category: TimeCategory, startMs: number, endMs: number) => {
    if (endMs > startMs) intervals.get(category)!.push([startMs, endMs]);
  };
  // Generation isolates' boots are the cost of isolation; the review pool's boot loads the
  // TypeScript compiler, which is review's cost.
  const onBooted = (message: unknown) => {
    const event = message as IsolateBootedEvent;
    const category = event.pool === GENERATION_POOL_NAME ? "isolateBoot" : "review";
    record(category, event.startedMs, event.startedMs + event.bootMs);
    if (category === "isolateBoot") bootMs.push(event.bootMs);
  };
  subscribe(ISOLATE_BOOTED_CHANNEL, onBooted);
  return {
    record,
    async measure(category, work) {
      const startMs = performance.now();
      try {
        return await work();
      } finally {
        record(category, startMs, performance.now());
      }
    },
    breakdown() {
      const elapsedMs = performance.now();
      const categories = Object.fromEntries(
        TIME_CATEGORIES.map((category) => [
          category,
          summarize(intervals.get(category)!, elapsedMs * SPAN_RESOLUTION),
        ]),
      ) as Record<TimeCategory, CategoryTime>;
      return {
        elapsedMs,
        startupMs: options.runStartMs,
        categories,
        isolateBoot: { count: bootMs.length, medianMs: median(bootMs) },
      };
    },
    close() {
      unsubscribe(ISOLATE_BOOTED_CHANNEL, onBooted);
    },
  };
}

/** Union of the intervals (total in flight), their plain sum, and the union's spans for drawing. */
export function summarize(intervals: Array<[number, number]>, closeGapsUnderMs = 0): CategoryTime {
  const sorted = [...intervals].sort((left, right) => left[0] - right[0]);
  const union: Array<[number, number]> = [];
  let totalMs = 0;
  for (const [start, end] of sorted) {
    totalMs += end - start;
    const last = union[union.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else union.push([start, end]);
  }
  const inFlightMs = union.reduce((sum, [start, end]) => sum + (end - start), 0);
  const spans: Array<[number, number]> = [];
  for (const [start, end] of union) {
    const last = spans[spans.length - 1];
    if (last !== undefined && start - last[1] < closeGapsUnderMs) last[1] = end;
    else spans.push([start, end]);
  }
  return {
    inFlightMs: Math.round(inFlightMs),
    totalMs: Math.round(totalMs),
    count: intervals.length,
    spans: spans.map(([start, end]) => [Math.round(start), Math.round(end)]),
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const value =
    sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return Math.round(value * 10) / 10;
}
