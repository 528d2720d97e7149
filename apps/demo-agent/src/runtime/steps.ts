import { existsSync } from "node:fs";
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createStepPool,
  type PressureSource,
  type StepPoolMode,
  type StepPoolStats,
  sharedBlobStoreFromEnv,
  stepPoolOptionsFromEnv,
} from "@leangraph/workers";
import { GENERATION_POOL_NAME, type TimeLedger } from "./time-ledger.js";

/**
 * The one place the demo touches the step pool of @leangraph/workers. The graph sees only
 * `StepRunner`: run a generation step, get back where its file landed, never its content.
 */
export interface StepOutcome {
  /** Absolute path of the written file. */
  path: string;
  bytes: number;
  sha256: string;
  heapUsedPeakBytes: number;
  ms: number;
  threadId: number;
  /** Runs made, more than 1 when the pool retried the step. */
  attempts: number;
  /** The `leangraph-worker` that ran it (LG_STEP_QUEUE only). */
  workerId?: string;
  /** Times a queue worker took it (LG_STEP_QUEUE only); see StepRunResult.starts. */
  starts?: number;
}

export interface StepRunner {
  /**
   * `workers`: a fresh isolate per step; `in-process`: the main thread (LG_USE_WORKERS=off);
   * `queue`: generation on `leangraph-demo worker` processes (LG_STEP_QUEUE).
   */
  readonly mode: StepPoolMode;
  /** How many steps may run at once; the graph's wave size. */
  readonly threads: number;
  /** The offline generator (`generateModule`); writes the module's file. */
  runGenerateStep(input: unknown, outputName: string): Promise<StepOutcome>;
  /**
   * The parse check of some files (`reviewFiles`); writes a small JSON report, not fsynced (it is
   * read right away, and the graph state, not the file, is what a resume relies on).
   */
  runReviewStep(input: unknown, outputName: string): Promise<StepOutcome>;
  /**
   * Whether a review would start now rather than wait for the review isolate to load the
   * compiler (~1.5 s of CPU here, far more on a busy machine). The graph reviews a wave beside
   * the next one only then, so a slow compiler load never holds a wave back; what it skips is
   * reviewed at the end.
   */
  readonly reviewReady: boolean;
  /** Queue depth, busy workers and counts, for the dashboard and /metrics. */
  stats(): StepPoolStats;
  /** Generation steps this run got back from each queue worker; empty unless LG_STEP_QUEUE. */
  stepsByWorker(): Record<string, number>;
  /**
   * Generation steps started again on the queue: by another worker after one died under them,
   * after a failure, or re-submitted because Redis lost them. Undefined unless LG_STEP_QUEUE.
   */
  queueRestarts(): number | undefined;
  close(): Promise<void>;
}

/** The module `leangraph-demo worker` serves: the generation step alone (see worker-steps.ts). */
export function workerStepsPath(): string {
  return compiledStepPath("worker-steps.js");
}

/** Absolute path of a compiled step module (relative to src/), the file worker threads import. */
export function compiledStepPath(fromSrc: string): string {
  const sibling = fileURLToPath(new URL(`../${fromSrc}`, import.meta.url));
  if (existsSync(sibling)) return sibling;
  // Under vitest this file runs from src/ as .ts; worker threads need the compiled JS in dist/.
  return fileURLToPath(new URL(`../../dist/${fromSrc}`, import.meta.url));
}

/**
 * Faults a fresh isolate may cure (OOM, timeout, a worker that died) are retried by the pool;
 * a step that throws is a bug in the generator and is not.
 */
const RETRIES_PER_STEP = 2;

/** Reads LG_USE_WORKERS, LG_WORKER_THREADS, LG_WORKER_HEAP_MB, LG_STEP_TIMEOUT_MS, LG_STEP_MAX_OUTPUT_MB. */
export function stepThreadsFromEnv(env: NodeJS.ProcessEnv): number {
  return stepPoolOptionsFromEnv(env).threads;
}

export async function createStepRunner(options: {
  env: NodeJS.ProcessEnv;
  /** Every step's output name is resolved in here (the run dir). */
  outputDir: string;
  /** Lets the pool lower its concurrency under memory pressure. */
  watchdog?: PressureSource;
  /** Where step times go (model wait, generation, review). */
  timeLedger?: TimeLedger;
}): Promise<StepRunner> {
  const { queue, ...poolOptions } = stepPoolOptionsFromEnv(options.env);
  const generatePath = compiledStepPath("generator/generate-module-step.js");
  const reviewPath = compiledStepPath("graph/review-files-step.js");
  const watchdog = options.watchdog ? { watchdog: options.watchdog } : {};
  // With LG_STEP_QUEUE, generation goes to `leangraph-demo worker` processes; the review reads
  // the project files, which are on this machine, so it stays here.
  const generatePool =
    queue === undefined
      ? createStepPool({
          ...poolOptions,
          name: GENERATION_POOL_NAME,
          outputDir: options.outputDir,
          // Spare isolates boot while the current wave runs; importing the generator then takes
          // its cost off the step's own latency.
          preloadModules: [generatePath],
          ...watchdog,
        })
      : createStepPool({
          ...poolOptions,
          name: GENERATION_POOL_NAME,
          outputDir: options.outputDir,
          queue: { ...queue, blobStore: await sharedBlobStoreFromEnv(options.env) },
        });
  // Review keeps its isolate: loading the TypeScript compiler costs ~1.5 s of CPU here, and
  // parsing is not what grows a heap from step to step (generation, which holds whole files,
  // keeps a fresh isolate per step). It boots now, so the compiler is loaded while the first
  // wave runs, before the first review.
  const reviewPool = createStepPool({
    ...poolOptions,
    name: "review",
    threads: REVIEW_THREADS,
    reuseIsolates: true,
    outputDir: options.outputDir,
    preloadModules: [reviewPath],
    ...watchdog,
  });
  const ledger = options.timeLedger;
  const stepsByWorker: Record<string, number> = {};
  let restartsOnQueue = 0;
  // In-process, a review runs inline whenever asked. With workers, an empty review tells when the
  // isolate has booted with the compiler loaded.
  let reviewReady = reviewPool.mode === "in-process";
  if (!reviewReady) {
    reviewPool
      .run({
        modulePath: reviewPath,
        exportName: "reviewFiles",
        input: { files: [] },
        outputName: "review/.ready.json",
        durable: false,
      })
      .then(
        () => {
          reviewReady = true;
        },
        // A reviewer that cannot boot stays "not ready": every file is then reviewed at the
        // end, where the failure reaches the run.
        () => {},
      );
  }
  return {
    mode: generatePool.mode,
    get reviewReady() {
      return reviewReady;
    },
    threads: poolOptions.threads,
    async runGenerateStep(input, outputName) {
      const outcome = await generatePool.run({
        modulePath: generatePath,
        exportName: "generateModule",
        input,
        outputName,
        retry: { retries: RETRIES_PER_STEP },
      });
      if (ledger) {
        // The step's own time, import to fsync (its last attempt), ends now; the model's
        // answer (the simulated latency) is its first part.
        const endMs = performance.now();
        const startMs = endMs - outcome.ms;
        const modelEndMs = Math.min(endMs, startMs + simulatedLatencyOf(input));
        ledger.record("modelWait", startMs, modelEndMs);
        ledger.record("generation", modelEndMs, endMs);
      }
      if (outcome.workerId !== undefined) {
        stepsByWorker[outcome.workerId] = (stepsByWorker[outcome.workerId] ?? 0) + 1;
        restartsOnQueue += (outcome.starts ?? 1) - 1;
      }
      return outcome;
    },
    async runReviewStep(input, outputName) {
      const outcome = await reviewPool.run({
        modulePath: reviewPath,
        exportName: "reviewFiles",
        input,
        outputName,
        durable: false,
        retry: { retries: RETRIES_PER_STEP },
      });
      const endMs = performance.now();
      ledger?.record("review", endMs - outcome.ms, endMs);
      return outcome;
    },
    stats: () => combinedStats(generatePool.stats(), reviewPool.stats()),
    stepsByWorker: () => ({ ...stepsByWorker }),
    queueRestarts: () =>
      queue === undefined ? undefined : restartsOnQueue + (generatePool.stats().resubmitted ?? 0),
    close: async () => {
      await Promise.all([generatePool.close(), reviewPool.close()]);
    },
  };
}

/** One review isolate keeps up with the waves: a 13 KB file parses in a few ms once warm. */
const REVIEW_THREADS = 1;

function simulatedLatencyOf(input: unknown): number {
  const latency = (input as { simulatedLatencyMs?: unknown } | null)?.simulatedLatencyMs;
  return typeof latency === "number" ? latency : 0;
}

/** The dashboard's view: the generation pool's parallelism, both pools' step counts. */
function combinedStats(generate: StepPoolStats, review: StepPoolStats): StepPoolStats {
  return {
    ...generate,
    running: generate.running + review.running,
    waiting: generate.waiting + review.waiting,
    succeeded: generate.succeeded + review.succeeded,
    failed: generate.failed + review.failed,
    poolFaults: generate.poolFaults + review.poolFaults,
  };
}

/** The pool writes `.<name>.<uuid>.tmp` next to the target, then renames it into place. */
const INTERRUPTED_WRITE =
  /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/**
 * A process killed mid-step leaves the step's temp file behind (the rename never happened).
 * Nothing references it, and on resume the step runs again, so it is removed before resuming.
 * Returns how many were removed.
 */
export async function removeInterruptedWrites(outputDir: string): Promise<number> {
  let removed = 0;
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(outputDir, { recursive: true, withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.isFile() && INTERRUPTED_WRITE.test(entry.name)) {
      await unlink(join(entry.parentPath, entry.name)).catch(() => {});
      removed++;
    }
  }
  return removed;
}
