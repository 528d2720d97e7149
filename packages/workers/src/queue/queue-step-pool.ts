import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { basename, dirname, join, resolve } from "node:path";
import type { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { settledEvent, stepSettledChannel } from "../diagnostics.js";
import { LeangraphError, StepError, WorkersErrorCode } from "../errors.js";
import type { StepPool, StepPoolStats, StepRunResult } from "../step-pool.js";
import {
  DEFAULT_RETRYABLE_CODES,
  type ParsedStepRequest,
  parseStepRequest,
  resolveOutputPath,
  type StepRequest,
} from "../step-request.js";
import { assertQueueReachable, loadQueueDriver } from "./queue-driver.js";
import { materializeStepOutput } from "./result-transfer.js";
import type { SharedBlobStore } from "./shared-blob-store.js";
import {
  STEP_JOB_VERSION,
  type StepJobData,
  type StepJobResult,
  stepErrorFromFailedJob,
  stepJobId,
  stepJobResultSchema,
} from "./step-job.js";

export interface QueuePoolSettings {
  connection: string;
  name: string;
  blobStore: SharedBlobStore;
  inlineInputMaxBytes: number;
  reconcileIntervalMs: number;
  connectTimeoutMs: number;
  outputDir: string;
  threads: number;
  stepTimeoutMs: number;
  maxOutputBytes: number;
}

/** Finished jobs stay this long so an agent that resumes (or missed an event) still finds them. */
const KEEP_FINISHED_JOBS = { age: 3_600, count: 10_000 } as const;

interface Waiter {
  resolve: (result: StepRunResult) => void;
  reject: (error: unknown) => void;
  startedMs: number;
}

/** One job the pool waits for; several identical `run()` calls share it. */
interface OutstandingStep {
  jobId: string;
  label: string;
  step: ParsedStepRequest;
  data: StepJobData;
  attempts: number;
  outputPath: string;
  waiters: Waiter[];
  /** False until the first add (or the finished job found instead); reconcile skips it until then. */
  submitted: boolean;
  /** Set while the result is read from the store, so an event and a reconcile never both do it. */
  settling: boolean;
}

interface Connected {
  queue: Queue;
  events: QueueEvents;
  connections: Redis[];
}

/**
 * `pool.run()` on BullMQ: the step becomes a job that any `leangraph-worker` serving its name
 * runs; the pool resolves when the job's output is in the shared store and has been written to
 * `outputDir/outputName` here, exactly as the local pool leaves it.
 *
 * Redis is not the truth: every `reconcileIntervalMs` the pool asks for the state of each job it
 * still waits for, and a job Redis no longer knows (FLUSHALL, a restart without persistence) is
 * added again under the same id. A completion whose event was lost is found the same way.
 */
export class QueueStepPool extends EventEmitter implements StepPool {
  readonly mode = "queue" as const;
  readonly #settings: QueuePoolSettings;
  readonly #outstanding = new Map<string, OutstandingStep>();
  readonly #ready: Promise<Connected>;
  readonly #reconcileTimer: NodeJS.Timeout;
  #reconciling = false;
  #closed = false;
  #succeeded = 0;
  #failed = 0;
  #resubmitted = 0;

  constructor(settings: QueuePoolSettings) {
    super();
    this.#settings = { ...settings, outputDir: resolve(settings.outputDir) };
    this.#ready = this.#connect();
    // Surfaced by the first run(); without a handler an unreachable Redis would crash the process.
    this.#ready.catch(() => {});
    this.#reconcileTimer = setInterval(
      () => void this.#reconcile(),
      settings.reconcileIntervalMs,
    ).unref();
  }

  async run(request: StepRequest): Promise<StepRunResult> {
    const startedMs = performance.now();
    if (this.#closed) {
      throw new LeangraphError(WorkersErrorCode.poolClosed, "run() called on a closed step pool");
    }
    const step = parseQueuedRequest(request);
    const label = `${step.exportName} -> ${step.outputName}`;
    const outputPath = resolveOutputPath(this.#settings.outputDir, step.outputName);
    const connected = await this.#ready;
    const inputJson = JSON.stringify(step.input) ?? "null";
    const jobId = stepJobId({
      outputPath,
      step: step.exportName,
      inputJson,
      outputName: step.outputName,
    });

    return new Promise<StepRunResult>((resolveRun, rejectRun) => {
      const waiter: Waiter = { resolve: resolveRun, reject: rejectRun, startedMs };
      const existing = this.#outstanding.get(jobId);
      if (existing) {
        existing.waiters.push(waiter);
        return;
      }
      const outstanding: OutstandingStep = {
        jobId,
        label,
        step,
        data: {
          version: STEP_JOB_VERSION,
          step: step.exportName,
          outputName: step.outputName,
          timeoutMs: step.timeoutMs ?? this.#settings.stepTimeoutMs,
          maxOutputBytes: this.#settings.maxOutputBytes,
          retryOn: [...(step.retry?.retryOn ?? DEFAULT_RETRYABLE_CODES)],
        },
        attempts: (step.retry?.retries ?? 0) + 1,
        outputPath,
        waiters: [waiter],
        submitted: false,
        settling: false,
      };
      this.#outstanding.set(jobId, outstanding);
      this.#firstSubmit(connected, outstanding, inputJson).catch((error) =>
        this.#settle(outstanding, { error }),
      );
    });
  }

  stats(): StepPoolStats {
    return {
      mode: this.mode,
      threads: this.#settings.threads,
      concurrency: this.#settings.threads,
      running: this.#outstanding.size,
      waiting: 0,
      succeeded: this.#succeeded,
      failed: this.#failed,
      poolFaults: 0,
      resubmitted: this.#resubmitted,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reconcileTimer);
    const closedError = new StepError(WorkersErrorCode.poolClosed, "The step pool closed", {
      stepLabel: "pool",
    });
    for (const outstanding of [...this.#outstanding.values()]) {
      this.#settle(outstanding, { error: closedError });
    }
    const connected = await this.#ready.catch(() => undefined);
    if (connected === undefined) return;
    await connected.events.close().catch(() => {});
    await connected.queue.close().catch(() => {});
    for (const redis of connected.connections) redis.disconnect();
  }

  async #connect(): Promise<Connected> {
    const { connection, name, connectTimeoutMs } = this.#settings;
    const driver = await loadQueueDriver("createStepPool({ queue })");
    const queueRedis = driver.connect(connection);
    const eventsRedis = driver.connect(connection);
    const connections = [queueRedis, eventsRedis];
    try {
      await assertQueueReachable(queueRedis, connection, connectTimeoutMs);
    } catch (error) {
      for (const redis of connections) redis.disconnect();
      throw error;
    }
    const queue = new driver.bullmq.Queue(name, { connection: queueRedis });
    const events = new driver.bullmq.QueueEvents(name, { connection: eventsRedis });
    // Connection errors while Redis restarts; the pool rides them out (see #reconcile).
    queue.on("error", (error) => this.emit("fault", queueFault(error)));
    events.on("error", (error) => this.emit("fault", queueFault(error)));
    events.on("completed", ({ jobId, returnvalue }) => {
      const outstanding = this.#outstanding.get(jobId);
      if (outstanding) void this.#complete(outstanding, returnvalue);
    });
    events.on("failed", ({ jobId, failedReason }) => {
      const outstanding = this.#outstanding.get(jobId);
      if (outstanding) void this.#failFromQueue(connected, outstanding, failedReason);
    });
    const connected: Connected = { queue, events, connections };
    await events.waitUntilReady();
    return connected;
  }

  /** A fresh `run()`: a failed job of an earlier run with the same id is replaced, not reported. */
  async #firstSubmit(connected: Connected, outstanding: OutstandingStep, inputJson: string) {
    const inputBytes = Buffer.byteLength(inputJson);
    if (inputBytes > this.#settings.inlineInputMaxBytes) {
      outstanding.data.inputBlobId = await this.#settings.blobStore.put(Buffer.from(inputJson));
    } else {
      outstanding.data.input = outstanding.step.input;
    }
    const state = await connected.queue.getJobState(outstanding.jobId);
    if (state === "failed") await connected.queue.remove(outstanding.jobId);
    if (state === "completed") {
      const job = await connected.queue.getJob(outstanding.jobId);
      if (job) {
        outstanding.submitted = true;
        return this.#complete(outstanding, job.returnvalue);
      }
    }
    await this.#add(connected, outstanding);
    outstanding.submitted = true;
  }

  #add(connected: Connected, outstanding: OutstandingStep): Promise<unknown> {
    // An id BullMQ already holds (waiting, running, finished) makes this a no-op.
    return connected.queue.add(outstanding.data.step, outstanding.data, {
      jobId: outstanding.jobId,
      attempts: outstanding.attempts,
      removeOnComplete: KEEP_FINISHED_JOBS,
      removeOnFail: KEEP_FINISHED_JOBS,
    });
  }

  /** Finds what events missed: jobs Redis lost (re-added) and jobs that finished unseen. */
  async #reconcile(): Promise<void> {
    if (this.#reconciling || this.#outstanding.size === 0 || this.#closed) return;
    this.#reconciling = true;
    try {
      const connected = await this.#ready;
      for (const outstanding of [...this.#outstanding.values()]) {
        if (outstanding.settling || !outstanding.submitted) continue;
        const state = await connected.queue.getJobState(outstanding.jobId);
        if (state === "unknown") {
          this.#resubmitted++;
          await this.#add(connected, outstanding);
        } else if (state === "completed" || state === "failed") {
          const job: Job | undefined = await connected.queue.getJob(outstanding.jobId);
          if (job === undefined) continue; // removed meanwhile; the next round re-adds it
          if (state === "completed") void this.#complete(outstanding, job.returnvalue);
          else void this.#failFromQueue(connected, outstanding, job.failedReason);
        }
      }
    } catch (error) {
      // Redis is down or restarting: try again next round.
      this.emit("fault", queueFault(error));
    } finally {
      this.#reconciling = false;
    }
  }

  async #complete(outstanding: OutstandingStep, returnValue: unknown): Promise<void> {
    if (outstanding.settling) return;
    outstanding.settling = true;
    try {
      const parsed = stepJobResultSchema.safeParse(returnValue);
      if (!parsed.success) {
        throw new StepError(
          WorkersErrorCode.resultCorrupt,
          `Step ${outstanding.label}: the queue returned a result this version cannot read`,
          { stepLabel: outstanding.label, cause: parsed.error },
        );
      }
      const result: StepJobResult = parsed.data;
      const outputPath = outstanding.outputPath;
      const written = await materializeStepOutput(
        this.#settings.blobStore,
        { id: result.blobId, bytes: result.bytes },
        {
          outputPath,
          // Beside the target, unique per read, like the local pool's temp files.
          tempPath: join(dirname(outputPath), `.${basename(outputPath)}.${randomUUID()}.tmp`),
          maxOutputBytes: this.#settings.maxOutputBytes,
          durable: outstanding.step.durable,
        },
        outstanding.label,
      );
      this.#settle(outstanding, {
        result: {
          path: outputPath,
          bytes: written.bytes,
          sha256: written.sha256,
          heapUsedPeakBytes: result.heapUsedPeakBytes,
          ms: result.ms,
          threadId: result.threadId,
          workerId: result.workerId,
          attempts: result.attempt,
          starts: result.starts,
        },
      });
    } catch (error) {
      this.#settle(outstanding, { error });
    }
  }

  async #failFromQueue(
    connected: Connected,
    outstanding: OutstandingStep,
    failedReason: string | undefined,
  ): Promise<void> {
    if (outstanding.settling) return;
    outstanding.settling = true;
    // Only for the attempt count in the error: if Redis cannot say, the count this pool saw stands.
    const job = await connected.queue.getJob(outstanding.jobId).catch(() => undefined);
    const attempts = job?.attemptsMade ?? outstanding.attempts;
    this.#settle(outstanding, {
      error: stepErrorFromFailedJob(outstanding.label, failedReason, Math.max(1, attempts)),
    });
  }

  #settle(
    outstanding: OutstandingStep,
    settled: { result: StepRunResult } | { error: unknown },
  ): void {
    if (this.#outstanding.get(outstanding.jobId) !== outstanding) return;
    this.#outstanding.delete(outstanding.jobId);
    outstanding.settling = true;
    const succeeded = "result" in settled;
    const attempts = succeeded
      ? settled.result.attempts
      : ((settled.error as { attempts?: number })?.attempts ?? 1);
    for (const waiter of outstanding.waiters) {
      if (succeeded) this.#succeeded++;
      else this.#failed++;
      if (stepSettledChannel.hasSubscribers)
        stepSettledChannel.publish(
          settledEvent(
            outstanding.step,
            outstanding.label,
            this.mode,
            waiter.startedMs,
            attempts,
            settled,
          ),
        );
      if (succeeded) waiter.resolve(settled.result);
      else waiter.reject(settled.error);
    }
  }
}

function queueFault(error: unknown): LeangraphError {
  return new LeangraphError(
    WorkersErrorCode.queueUnreachable,
    `The step queue failed: ${(error as Error)?.message ?? error}`,
    { cause: error },
  );
}

/**
 * A queued request names its step; `modulePath` may be left out (workers find the step among
 * their `--steps` modules), and when given it is checked but never sent.
 */
function parseQueuedRequest(request: StepRequest): ParsedStepRequest {
  if (request !== null && typeof request === "object" && request.modulePath === undefined) {
    const parsed = parseStepRequest({ ...request, modulePath: "file:///queued-step" });
    return parsed;
  }
  return parseStepRequest(request);
}
