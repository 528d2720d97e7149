import { existsSync } from "node:fs";
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createStepPool,
  type PressureSource,
  type StepPoolStats,
  stepPoolOptionsFromEnv,
} from "@leangraph/workers";

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
}

export interface StepRunner {
  /** `workers`: a fresh isolate per step; `in-process`: the main thread (LG_USE_WORKERS=off). */
  readonly mode: "workers" | "in-process";
  /** How many steps may run at once; the graph's wave size. */
  readonly threads: number;
  /** The offline generator (`generateModule`); writes the module's file. */
  runGenerateStep(input: unknown, outputName: string): Promise<StepOutcome>;
  /** The parse check of a batch of files (`reviewFiles`); writes a small JSON report. */
  runReviewStep(input: unknown, outputName: string): Promise<StepOutcome>;
  /** Queue depth, busy workers and counts, for the dashboard and /metrics. */
  stats(): StepPoolStats;
  close(): Promise<void>;
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
}): Promise<StepRunner> {
  const poolOptions = stepPoolOptionsFromEnv(options.env);
  const generatePath = compiledStepPath("generator/generate-module-step.js");
  const reviewPath = compiledStepPath("graph/review-files-step.js");
  const pool = createStepPool({
    ...poolOptions,
    outputDir: options.outputDir,
    // Spare isolates boot while the current wave runs; importing the generator (and zod) then
    // takes its ~100 ms off the step's own latency. Only the generator: the TypeScript compiler
    // the review step needs is ~1.5 s to load, worth paying only in the few review isolates.
    preloadModules: [generatePath],
    ...(options.watchdog ? { watchdog: options.watchdog } : {}),
  });
  return {
    mode: pool.mode,
    threads: poolOptions.threads,
    async runGenerateStep(input, outputName) {
      return pool.run({
        modulePath: generatePath,
        exportName: "generateModule",
        input,
        outputName,
        retry: { retries: RETRIES_PER_STEP },
      });
    },
    async runReviewStep(input, outputName) {
      return pool.run({
        modulePath: reviewPath,
        exportName: "reviewFiles",
        input,
        outputName,
        retry: { retries: RETRIES_PER_STEP },
      });
    },
    stats: () => pool.stats(),
    close: () => pool.close(),
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
