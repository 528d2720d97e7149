import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions } from "@leangraph/errors";
import type { Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { DEFAULT_STEP_QUEUE_NAME, defaultWorkerThreads, stepQueueName } from "../config.js";
import { LeangraphError, StepError, WorkersErrorCode } from "../errors.js";
import { booleanOption, wholeNumber } from "../option-schemas.js";
import { createStepPool, type StepPool } from "../step-pool.js";
import type { PressureSource } from "../watchdog/pressure-level.js";
import { assertQueueReachable, loadQueueDriver } from "./queue-driver.js";
import { storeStepOutput } from "./result-transfer.js";
import { isSharedBlobStore, type SharedBlobStore } from "./shared-blob-store.js";
import {
  failureReason,
  type StepJobData,
  type StepJobResult,
  stepJobDataSchema,
} from "./step-job.js";

export interface QueueWorkerOptions {
  /** Redis URL of the queue (LG_STEP_QUEUE). */
  connection: string;
  /** @default "leangraph-steps" (LG_STEP_QUEUE_NAME) */
  name?: string;
  /** ES modules (paths or file: URLs) whose exports are the steps this worker serves, by export name. */
  stepModules: string[];
  /** The store the agent reads outputs from (see `sharedBlobStoreFromEnv`). */
  blobStore: SharedBlobStore;
  /** Steps running at once. @default what fits in memory with the heap cap, at most the cores (LG_WORKER_THREADS) */
  concurrency?: number;
  /** Heap cap of each step's isolate. @default 768 (LG_WORKER_HEAP_MB) */
  heapMb?: number;
  /** Largest output a step may write here. @default 256 MiB (LG_STEP_MAX_OUTPUT_MB) */
  maxOutputBytes?: number;
  /** Shown in results and logs (the demo's summary counts steps per worker). @default host:pid */
  workerId?: string;
  /**
   * How long a running step's lock lives without renewal. A worker killed mid-step leaves its
   * job locked this long before another worker may take it. @default 15000
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. @default 5000 */
  stalledIntervalMs?: number;
  /** Times a job may lose its worker before it fails with ERR_LG_STEP_EXITED. @default 3 */
  maxStalls?: number;
  /** The memory watchdog of this process: its pressure lowers the step concurrency. @default none */
  watchdog?: PressureSource;
  /** Each spare isolate imports the step modules while it boots, off the step's latency. @default true */
  preloadSteps?: boolean;
  /** One line per event worth a log (ready, a failed step, draining). @default none */
  log?: (line: string) => void;
}

const optionsSchema = z.strictObject({
  connection: z
    .string()
    .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
      message: "a Redis URL such as redis://127.0.0.1:6379/0",
    }),
  name: stepQueueName.default(DEFAULT_STEP_QUEUE_NAME),
  stepModules: z
    .array(z.string().min(1), { message: "an array of ES module paths or file: URLs" })
    .min(1, "at least one step module"),
  blobStore: z.custom<SharedBlobStore>(isSharedBlobStore, {
    message: "a blob store every machine reaches (put, putStream, get, getStream)",
  }),
  concurrency: wholeNumber(1, 256, "steps").optional(),
  heapMb: wholeNumber(16, 65_536, "MB").default(768),
  maxOutputBytes: wholeNumber(1, Number.MAX_SAFE_INTEGER, "bytes").default(256 * 1024 * 1024),
  workerId: z.string().min(1).max(200).default(`${hostname()}:${process.pid}`),
  lockDurationMs: wholeNumber(1_000, 3_600_000, "milliseconds").default(15_000),
  stalledIntervalMs: wholeNumber(500, 3_600_000, "milliseconds").default(5_000),
  maxStalls: wholeNumber(0, 100, "stalls").default(3),
  watchdog: z
    .custom<PressureSource>((value) => typeof (value as PressureSource)?.on === "function")
    .optional(),
  preloadSteps: booleanOption.default(true),
  log: z.custom<(line: string) => void>((value) => typeof value === "function").optional(),
});

export interface QueueWorkerStats {
  workerId: string;
  succeeded: number;
  failed: number;
  /** Jobs this worker handed back because it had failed them before (another worker may cure them). */
  handedBack: number;
  running: number;
}

export interface QueueWorker {
  readonly workerId: string;
  /** The step names this worker serves. */
  readonly steps: readonly string[];
  stats(): QueueWorkerStats;
  /** Takes no new job, lets running steps finish and store their output, then closes. */
  close(): Promise<void>;
}

/**
 * A job this worker failed with a retryable code is handed back (delayed briefly, no attempt
 * counted) this many times before the worker runs it itself: a worker whose isolates cannot run
 * the step (too small a heap, a broken machine) should not use up a job's retries alone.
 */
const HAND_BACKS_PER_JOB = 5;
const HAND_BACK_DELAY_MS = 200;
/** Bounded so a long-lived worker does not grow a map of every job it ever failed. */
const REMEMBERED_FAILURES = 10_000;

/** Imports each step module once, here, to learn which names it serves (and fail fast if broken). */
async function registerSteps(stepModules: string[]): Promise<Map<string, string>> {
  const registry = new Map<string, string>();
  for (const module of stepModules) {
    const url = module.startsWith("file:") ? module : pathToFileURL(resolve(module)).href;
    let namespace: Record<string, unknown>;
    try {
      namespace = await import(url);
    } catch (error) {
      throw new LeangraphError(
        WorkersErrorCode.invalidOption,
        `Step module ${module} could not be imported: ${(error as Error).message}`,
        { cause: error, hint: "Pass the built JavaScript module (e.g. --steps ./dist/steps.js)." },
      );
    }
    for (const [name, exported] of Object.entries(namespace)) {
      const isStep =
        typeof exported === "function" ||
        (typeof (exported as { run?: unknown } | null)?.run === "function" &&
          typeof (exported as { input?: { safeParse?: unknown } }).input?.safeParse === "function");
      if (!isStep || name === "default") continue;
      const already = registry.get(name);
      if (already !== undefined && already !== url) {
        throw new LeangraphError(
          WorkersErrorCode.invalidOption,
          `Step '${name}' is exported by both ${already} and ${url}; a step name must mean one step.`,
        );
      }
      registry.set(name, url);
    }
  }
  if (registry.size === 0) {
    throw new LeangraphError(
      WorkersErrorCode.invalidOption,
      `No step functions exported by ${stepModules.join(", ")}`,
    );
  }
  return registry;
}

/**
 * Serves a BullMQ queue: each job names a registered step, which runs in a fresh heap-capped
 * isolate of a local step pool exactly as on the agent's machine; the output goes into the shared
 * blob store and the job's result is its id. A step's failure ends the job with its code, retried
 * by BullMQ when the request's policy says so.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const settings = parseOptions(optionsSchema, options, "startQueueWorker(options)");
  const registry = await registerSteps(settings.stepModules);
  const concurrency = settings.concurrency ?? defaultWorkerThreads(settings.heapMb);
  const log = settings.log ?? (() => {});
  const driver = await loadQueueDriver("leangraph-worker");
  const redis: Redis = driver.connect(settings.connection);
  try {
    await assertQueueReachable(redis, settings.connection, 5_000);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  // Outputs land here first (the step runner writes files), then move into the shared store.
  const workDir = await mkdtemp(join(tmpdir(), "leangraph-worker-"));
  const pool: StepPool = createStepPool({
    outputDir: workDir,
    threads: concurrency,
    heapMb: settings.heapMb,
    maxOutputBytes: settings.maxOutputBytes,
    preloadModules: settings.preloadSteps ? [...new Set(registry.values())] : [],
    ...(settings.watchdog ? { watchdog: settings.watchdog } : {}),
  });
  pool.on("fault", (fault) => log(`pool fault: ${fault.code}: ${fault.message}`));

  const counts = { succeeded: 0, failed: 0, handedBack: 0 };
  const failedHere = new Map<string, number>();
  const { UnrecoverableError, DelayedError } = driver.bullmq;

  const processStep = async (job: Job, token?: string): Promise<StepJobResult> => {
    const parsed = stepJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        failureReason(
          WorkersErrorCode.inputInvalid,
          `job ${job.id} is not a step job this worker can read (version ${(job.data as { version?: unknown })?.version})`,
        ),
      );
    }
    const data: StepJobData = parsed.data;
    const jobId = job.id ?? randomUUID();
    const handBacks = failedHere.get(jobId);
    if (handBacks !== undefined && handBacks < HAND_BACKS_PER_JOB && token !== undefined) {
      failedHere.set(jobId, handBacks + 1);
      counts.handedBack++;
      await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
      throw new DelayedError();
    }
    const modulePath = registry.get(data.step);
    if (modulePath === undefined) {
      throw new UnrecoverableError(
        failureReason(
          WorkersErrorCode.stepNotFound,
          `worker ${settings.workerId} serves ${[...registry.keys()].join(", ")}; not '${data.step}'`,
        ),
      );
    }
    const label = `${data.step} -> ${data.outputName}`;
    try {
      const input =
        data.inputBlobId === undefined
          ? data.input
          : JSON.parse(
              Buffer.from(await settings.blobStore.get(data.inputBlobId)).toString("utf8"),
            );
      const result = await pool.run({
        modulePath,
        exportName: data.step,
        input,
        outputName: `${jobId}.${randomUUID()}.out`,
        timeoutMs: data.timeoutMs,
        // Scratch: the store write below is the durable one.
        durable: false,
      });
      if (result.bytes > data.maxOutputBytes) {
        throw new StepError(
          WorkersErrorCode.outputTooLarge,
          `Step output is ${result.bytes} bytes, past the agent's cap of ${data.maxOutputBytes}`,
          { stepLabel: label },
        );
      }
      const stored = await storeStepOutput(settings.blobStore, result, label);
      counts.succeeded++;
      failedHere.delete(jobId);
      return {
        blobId: stored.id,
        bytes: stored.bytes,
        heapUsedPeakBytes: result.heapUsedPeakBytes,
        ms: result.ms,
        threadId: result.threadId,
        workerId: settings.workerId,
        attempt: job.attemptsMade + 1,
        starts: Math.max(1, job.attemptsStarted),
      };
    } catch (error) {
      counts.failed++;
      const code = error instanceof StepError ? error.code : WorkersErrorCode.exited;
      const message = (error as Error)?.message ?? String(error);
      log(`step ${label} failed here: ${code}: ${message}`);
      if (!data.retryOn.includes(code)) {
        throw new UnrecoverableError(failureReason(code, message));
      }
      failedHere.set(jobId, 0);
      if (failedHere.size > REMEMBERED_FAILURES) {
        failedHere.delete(failedHere.keys().next().value as string);
      }
      throw new Error(failureReason(code, message));
    }
  };

  const worker: Worker = new driver.bullmq.Worker(settings.name, processStep, {
    // Stored on each job as `processedBy`: which worker runs (or ran) it.
    name: settings.workerId,
    connection: redis,
    concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalls,
  });
  // Redis restarts and lost locks (the job then runs again elsewhere): logged, never fatal.
  worker.on("error", (error) => log(`queue error: ${error.message}`));
  await worker.waitUntilReady();
  log(
    `leangraph-worker ${settings.workerId} serves ${[...registry.keys()].join(", ")} on queue '${settings.name}', ${concurrency} at a time`,
  );

  let closing: Promise<void> | undefined;
  return {
    workerId: settings.workerId,
    steps: [...registry.keys()],
    stats: () => ({
      workerId: settings.workerId,
      ...counts,
      running: pool.stats().running,
    }),
    close() {
      closing ??= (async () => {
        log(`leangraph-worker ${settings.workerId}: draining (running steps finish, no new ones)`);
        await worker.close();
        await pool.close();
        redis.disconnect();
        await rm(workDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
