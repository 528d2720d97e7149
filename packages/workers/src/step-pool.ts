import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import {
  DEFAULT_STEP_MAX_OUTPUT_MB,
  DEFAULT_STEP_QUEUE_NAME,
  DEFAULT_STEP_TIMEOUT_MS,
  DEFAULT_WORKER_HEAP_MB,
  defaultWorkerThreads,
  stepQueueName,
} from "./config.js";
import { settledEvent, stepSettledChannel } from "./diagnostics.js";
import { LeangraphError, StepError, WorkersErrorCode } from "./errors.js";
import { booleanOption, wholeNumber } from "./option-schemas.js";
import { QueueStepPool } from "./queue/queue-step-pool.js";
import { isSharedBlobStore, type SharedBlobStore } from "./queue/shared-blob-store.js";
import { InProcessStepExecutor, type StepExecutor, WorkerStepExecutor } from "./step-executors.js";
import { StepQueue } from "./step-queue.js";
import {
  DEFAULT_RETRYABLE_CODES,
  parseStepRequest,
  resolveOutputPath,
  type StepRequest,
  stepLabel,
} from "./step-request.js";
import type { StepResult, StepTask } from "./step-runner.js";
import type { PressureChange, PressureLevel, PressureSource } from "./watchdog/pressure-level.js";

export interface StepPoolOptions {
  /** Directory every step's `outputName` is resolved in; created on demand. */
  outputDir: string;
  /** `false` runs steps in the main thread through the same interface. @default true (LG_USE_WORKERS) */
  useWorkers?: boolean;
  /** Steps running at once. @default what fits in available memory with the heap cap, at most the cores (LG_WORKER_THREADS) */
  threads?: number;
  /** Fresh isolates kept booted ahead so a step need not wait ~35 ms for one. @default threads (0 with `reuseIsolates`) */
  spareWorkers?: number;
  /**
   * Keep an isolate after a step that succeeded and hand it the next step, instead of a fresh
   * one per step. For steps whose setup is expensive and whose work does not grow the heap from
   * step to step, e.g. a review step that loads the TypeScript compiler (~1.5 s here) through
   * `preloadModules` once and only parses. An isolate whose step failed is still replaced, the
   * heap cap still applies, and generation steps should keep the default. @default false
   */
  reuseIsolates?: boolean;
  /** Names the pool in its diagnostics events, e.g. to tell a review pool's boots from a generation pool's. @default "steps" */
  name?: string;
  /** Old-generation heap cap of each step's isolate, in MB. @default 768 (LG_WORKER_HEAP_MB) */
  heapMb?: number;
  /** Wall-clock budget per attempt; the worker is terminated past it. @default 600000 (LG_STEP_TIMEOUT_MS) */
  stepTimeoutMs?: number;
  /** Largest output a step may write, in bytes. @default 256 MiB (LG_STEP_MAX_OUTPUT_MB) */
  maxOutputBytes?: number;
  /** ES modules (absolute paths or file: URLs) every isolate imports while booting, e.g. a loader registration. @default [] */
  preloadModules?: string[];
  /** Each spare runs the step path once on a built-in step while it boots, so V8's lazy compilation and the first dynamic import are off the real step's latency (~3-10 ms measured). @default true */
  warmUp?: boolean;
  /** A fresh isolate that has not booted by then is ended and counted as a boot failure. @default 30000 */
  bootTimeoutMs?: number;
  /** Node flags for the worker isolates (not inherited from the main process). @default [] */
  workerExecArgv?: string[];
  /** A memory watchdog: at HIGH pressure the pool halves its concurrency, at CRITICAL runs one step at a time. @default none */
  watchdog?: PressureSource;
  /**
   * Run steps on `leangraph-worker` processes through BullMQ instead of this machine's isolates
   * (LG_STEP_QUEUE). Workers find a step by its `exportName` among their `--steps` modules, store
   * its output in `blobStore`, and the pool writes it to `outputDir/outputName` here. The options
   * of local isolates (useWorkers, heapMb, spareWorkers, preloadModules, …) are then the workers'.
   * @default none: steps run here
   */
  queue?: StepQueueOptions;
}

export interface StepQueueOptions {
  /** Redis URL of the queue, e.g. `redis://127.0.0.1:6379/0` (LG_STEP_QUEUE). */
  connection: string;
  /** @default "leangraph-steps" (LG_STEP_QUEUE_NAME) */
  name?: string;
  /** A blob store the agent and every worker reach (see `sharedBlobStoreFromEnv`). */
  blobStore: SharedBlobStore;
  /** Inputs whose JSON is larger go through `blobStore`; the queue carries only their id. @default 16384 */
  inlineInputMaxBytes?: number;
  /** How often the pool checks that Redis still holds the jobs it waits for. @default 1000 */
  reconcileIntervalMs?: number;
  /** How long the first connection may take before runs fail with ERR_LG_STEP_QUEUE_UNREACHABLE. @default 5000 */
  connectTimeoutMs?: number;
}

const moduleUrl = z
  .string({ message: "an ES module path or file: URL" })
  .min(1, "an ES module path or file: URL")
  .transform((value) => (value.startsWith("file:") ? value : pathToFileURL(resolve(value)).href));

const queueOptionsSchema = z.strictObject(
  {
    connection: z
      .string({ message: "a Redis URL such as redis://127.0.0.1:6379/0" })
      .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
        message: "a Redis URL such as redis://127.0.0.1:6379/0 (rediss:// for TLS)",
      }),
    name: stepQueueName.default(DEFAULT_STEP_QUEUE_NAME),
    blobStore: z.custom<SharedBlobStore>(isSharedBlobStore, {
      message: "a blob store every worker reaches (put, putStream, get, getStream)",
    }),
    inlineInputMaxBytes: wholeNumber(0, 100 * 1024 * 1024, "bytes").default(16 * 1024),
    reconcileIntervalMs: wholeNumber(10, 3_600_000, "milliseconds").default(1_000),
    connectTimeoutMs: wholeNumber(1, 600_000, "milliseconds").default(5_000),
  },
  { message: "an object { connection, name?, blobStore, … }" },
);

const optionsSchema = z.strictObject({
  outputDir: z
    .string({ message: "a directory path for step outputs" })
    .min(1, "a non-empty directory path for step outputs"),
  useWorkers: booleanOption.default(true),
  threads: wholeNumber(1, 256, "threads").optional(),
  spareWorkers: wholeNumber(0, 256, "workers").optional(),
  reuseIsolates: booleanOption.default(false),
  name: z.string({ message: "a short name for diagnostics" }).min(1).max(64).default("steps"),
  heapMb: wholeNumber(16, 65_536, "MB").default(DEFAULT_WORKER_HEAP_MB),
  stepTimeoutMs: wholeNumber(1, 86_400_000, "milliseconds").default(DEFAULT_STEP_TIMEOUT_MS),
  maxOutputBytes: wholeNumber(1, Number.MAX_SAFE_INTEGER, "bytes").default(
    DEFAULT_STEP_MAX_OUTPUT_MB * 1024 * 1024,
  ),
  preloadModules: z
    .array(moduleUrl, { message: "an array of ES module paths or file: URLs" })
    .default([]),
  bootTimeoutMs: wholeNumber(1, 600_000, "milliseconds").default(30_000),
  warmUp: booleanOption.default(true),
  workerExecArgv: z
    .array(z.string(), { message: "an array of Node flags such as ['--enable-source-maps']" })
    .default([]),
  watchdog: z
    .custom<PressureSource>(
      (value) =>
        value !== null &&
        typeof value === "object" &&
        typeof (value as PressureSource).on === "function" &&
        typeof (value as PressureSource).off === "function",
      { message: "a MemoryWatchdog (an object with on/off('level'))" },
    )
    .optional(),
  queue: queueOptionsSchema.optional(),
});

/** A step's result plus how many attempts it took (more than 1 only under a retry policy). */
export interface StepRunResult extends StepResult {
  attempts: number;
  /** The `leangraph-worker` that ran it; only for a queue pool. */
  workerId?: string;
  /**
   * Queue pool only: times a worker took the step (after the last re-submission). More than
   * `attempts` when a worker died under it or handed it back after failing it.
   */
  starts?: number;
}

export interface StepPoolStats {
  mode: StepPoolMode;
  /** The configured parallelism. */
  threads: number;
  /** Parallelism right now (lowered under memory pressure). */
  concurrency: number;
  running: number;
  waiting: number;
  succeeded: number;
  failed: number;
  /** Faults outside any step: workers that died booting or idle. */
  poolFaults: number;
  /** Queue pool only: steps added again because Redis no longer knew their job. */
  resubmitted?: number;
}

/** `workers`: fresh isolates here; `in-process`: the main thread; `queue`: leangraph-worker processes. */
export type StepPoolMode = "workers" | "in-process" | "queue";

export interface StepPool {
  readonly mode: StepPoolMode;
  /** Runs a step (retrying per its policy) and resolves with where its output landed. */
  run(request: StepRequest): Promise<StepRunResult>;
  stats(): StepPoolStats;
  /** Faults outside any step, e.g. `ERR_LG_WORKER_BOOT_FAILED`, `ERR_LG_WORKER_IDLE_FAILED`. */
  on(event: "fault", listener: (fault: LeangraphError) => void): this;
  off(event: "fault", listener: (fault: LeangraphError) => void): this;
  /** Rejects waiting steps, lets running ones finish, then ends every worker. */
  close(): Promise<void>;
}

interface PendingAttempt {
  task: StepTask;
  label: string;
  timeoutMs: number;
  resolve: (result: StepResult) => void;
  reject: (error: unknown) => void;
}

function concurrencyUnder(level: PressureLevel, threads: number): number {
  if (level === "CRITICAL") return 1;
  if (level === "HIGH") return Math.max(1, Math.floor(threads / 2));
  return threads;
}

class DefaultStepPool extends EventEmitter implements StepPool {
  readonly mode: "workers" | "in-process";
  readonly #outputDir: string;
  readonly #threads: number;
  readonly #stepTimeoutMs: number;
  readonly #maxOutputBytes: number;
  readonly #executor: StepExecutor;
  readonly #queue: StepQueue<PendingAttempt>;
  readonly #watchdog: PressureSource | undefined;
  readonly #onPressure = (change: PressureChange) => {
    this.#concurrency = concurrencyUnder(change.to, this.#threads);
    this.#queue.pump();
  };
  #concurrency: number;
  #closed = false;
  #succeeded = 0;
  #failed = 0;
  #poolFaults = 0;

  constructor(options: z.output<typeof optionsSchema>) {
    super();
    this.#outputDir = resolve(options.outputDir);
    this.#threads = options.threads ?? defaultWorkerThreads(options.heapMb);
    this.#stepTimeoutMs = options.stepTimeoutMs;
    this.#maxOutputBytes = options.maxOutputBytes;
    this.#watchdog = options.watchdog;
    this.#concurrency = concurrencyUnder(this.#watchdog?.level ?? "LOW", this.#threads);
    this.#watchdog?.on("level", this.#onPressure);
    this.#queue = new StepQueue<PendingAttempt>(
      () => this.#concurrency,
      () => this.#executor.canStart(),
      (attempt) =>
        this.#executor
          .execute(attempt.task, attempt.label, attempt.timeoutMs)
          .then(attempt.resolve, attempt.reject),
    );
    this.#executor = options.useWorkers
      ? new WorkerStepExecutor({
          threads: this.#threads,
          spareWorkers: options.spareWorkers ?? (options.reuseIsolates ? 0 : this.#threads),
          reuseIsolates: options.reuseIsolates,
          poolName: options.name,
          heapMb: options.heapMb,
          preloadModules: options.preloadModules,
          execArgv: options.workerExecArgv,
          bootTimeoutMs: options.bootTimeoutMs,
          warmUp: options.warmUp,
          onCapacity: () => this.#queue.pump(),
          onFault: (fault) => {
            this.#poolFaults++;
            this.emit("fault", fault);
          },
          rejectWaiting: (error) => {
            for (const attempt of this.#queue.drain()) attempt.reject(error);
          },
        })
      : new InProcessStepExecutor();
    this.mode = this.#executor.mode;
  }

  async run(request: StepRequest): Promise<StepRunResult> {
    if (this.#closed) {
      throw new LeangraphError(WorkersErrorCode.poolClosed, "run() called on a closed step pool");
    }
    const step = parseStepRequest(request);
    const label = stepLabel(step);
    const outputPath = resolveOutputPath(this.#outputDir, step.outputName);
    const retries = step.retry?.retries ?? 0;
    const retryOn = new Set(step.retry?.retryOn ?? DEFAULT_RETRYABLE_CODES);
    const startedMs = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.#attempt(
          {
            moduleUrl: step.modulePath,
            exportName: step.exportName,
            input: step.input,
            outputName: step.outputName,
            outputPath,
            // Beside the target so the final rename stays on one filesystem; unique per attempt so
            // a retry never collides with a dead attempt's leftovers.
            tempPath: join(dirname(outputPath), `.${basename(outputPath)}.${randomUUID()}.tmp`),
            maxOutputBytes: this.#maxOutputBytes,
            durable: step.durable,
          },
          label,
          step.timeoutMs ?? this.#stepTimeoutMs,
        );
        this.#succeeded++;
        if (stepSettledChannel.hasSubscribers)
          stepSettledChannel.publish(
            settledEvent(step, label, this.mode, startedMs, attempt, { result }),
          );
        return { ...result, attempts: attempt };
      } catch (error) {
        if (error instanceof StepError) {
          error.attempts = attempt;
          if (attempt <= retries && retryOn.has(error.code) && !this.#closed) continue;
        }
        this.#failed++;
        if (stepSettledChannel.hasSubscribers)
          stepSettledChannel.publish(
            settledEvent(step, label, this.mode, startedMs, attempt, { error }),
          );
        throw error;
      }
    }
  }

  stats(): StepPoolStats {
    return {
      mode: this.mode,
      threads: this.#threads,
      concurrency: this.#concurrency,
      running: this.#queue.running,
      waiting: this.#queue.waiting,
      succeeded: this.#succeeded,
      failed: this.#failed,
      poolFaults: this.#poolFaults,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchdog?.off("level", this.#onPressure);
    const closedError = new StepError(WorkersErrorCode.poolClosed, "The step pool closed", {
      stepLabel: "pool",
    });
    for (const attempt of this.#queue.drain()) attempt.reject(closedError);
    await this.#executor.close();
  }

  #attempt(task: StepTask, label: string, timeoutMs: number): Promise<StepResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, label, timeoutMs, resolve, reject });
    });
  }
}

/**
 * Creates the pool that runs generation steps, each in a fresh, heap-capped isolate that hands
 * back a file path (or in-process when `useWorkers` is false). Options are validated here, once.
 *
 * @example
 * const pool = createStepPool({ ...stepPoolOptionsFromEnv(), outputDir: "/runs/42/out" });
 * const { path, sha256 } = await pool.run({
 *   modulePath: "/app/steps/generate.mjs", exportName: "generateFile",
 *   input: { spec }, outputName: "src/app.ts",
 * });
 */
export function createStepPool(options: StepPoolOptions): StepPool {
  const parsed = parseOptions(optionsSchema, options, "createStepPool(options)");
  if (parsed.queue === undefined) return new DefaultStepPool(parsed);
  return new QueueStepPool({
    ...parsed.queue,
    outputDir: parsed.outputDir,
    threads: parsed.threads ?? defaultWorkerThreads(parsed.heapMb),
    stepTimeoutMs: parsed.stepTimeoutMs,
    maxOutputBytes: parsed.maxOutputBytes,
  });
}
