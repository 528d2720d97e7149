import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { BOOTED_MESSAGE_KEY } from "./booted-message.js";
import { isolateBootedChannel } from "./diagnostics.js";
import { LeangraphError, WorkersErrorCode } from "./errors.js";
import type { StepOutcome, StepTask } from "./step-runner.js";
import type { StepWorkerData } from "./step-worker.js";

/**
 * The young generation of each step isolate, pinned: V8 sizes it by version (3 x 16 MB
 * semi-spaces on Node 20 and 22, 3 x 64 MB on Node 24), so on Node 24 a 64 MB step isolate got a
 * 192 MB young generation — more memory per worker than defaultWorkerThreads() budgets for, and
 * seconds of copying survivors before a hoarding step hits its old-generation cap. 48 MB is what
 * Node 20 and 22 give it, so a step behaves and costs the same on every Node version.
 */
const STEP_YOUNG_GENERATION_MB = 48;

/**
 * The compiled worker entry. Workers load JavaScript, so when this module runs from its
 * TypeScript source (vitest, tsx) the entry comes from the package's build output instead.
 * Resolved once per pool: if the file disappears later (a rebuild mid-run), replacement isolates
 * fail to boot and are reported as boot failures instead of a throw from deep inside the pool.
 */
export function workerEntryPath(): string {
  const sibling = fileURLToPath(new URL("./step-worker.js", import.meta.url));
  if (existsSync(sibling)) return sibling;
  const built = fileURLToPath(new URL("../dist/step-worker.js", import.meta.url));
  if (existsSync(built)) return built;
  throw new LeangraphError(
    WorkersErrorCode.workerEntryMissing,
    `@leangraph/workers: worker entry not found at ${sibling} or ${built}.`,
    {
      hint: "Reinstall @leangraph/workers (its dist/ is incomplete); in this repository run `pnpm --filter @leangraph/workers build`.",
    },
  );
}

export interface FreshIsolateOptions {
  /** From `workerEntryPath()`. */
  workerEntry: string;
  isolates: number;
  heapMb: number;
  preloadModules: string[];
  execArgv: string[];
  bootTimeoutMs: number;
  warmUp: boolean;
  /** The pool's name, in its diagnostics events. */
  poolName: string;
}

/** Why a worker thread went away without being retired by us. */
export type UnexpectedExit =
  | { kind: "boot"; threadId: number; exitCode: number; error: Error | undefined }
  | { kind: "idle"; threadId: number; exitCode: number; error: Error | undefined };

interface ThreadRecord {
  threadId: number;
  /** performance.now() when this thread was first seen: the start of its boot. */
  seenMs: number;
  booted: boolean;
  created: boolean;
  used: boolean;
  retiredByUs: boolean;
  error: Error | undefined;
}

/**
 * One piscina instance bent to "one step per isolate". piscina reuses workers and has no option
 * against it, and a worker that exits itself after its task races with piscina handing it the
 * next one. So:
 * - the load balancer only ever returns a worker that is booted and has never had a task;
 * - the main thread terminates a used worker as soon as its step settled, and piscina (whose
 *   minThreads equals maxThreads) boots a replacement, which is the next fresh spare;
 * - readiness is our own `booted` message, because piscina marks the workers it creates in its
 *   constructor ready before they have even loaded their entry.
 * Every thread's exit is watched, so deaths outside a step (while booting, or idle) are reported.
 * piscina stops replacing workers after a bootstrap failure, so the owner replaces the whole
 * instance when `isDegraded()` says it fell below its size.
 */
export class FreshIsolatePiscina {
  readonly piscina: Piscina<StepTask, StepOutcome>;
  readonly #threads = new Map<number, ThreadRecord>();
  readonly #watched = new WeakSet<Worker>();
  #retired = false;
  #inFlight = 0;
  #drained: (() => void) | undefined;
  /** Woken whenever a thread finishes booting or exits (see #bootsSettled). */
  #bootWaiters: (() => void)[] = [];

  constructor(
    private readonly options: FreshIsolateOptions,
    private readonly onAvailable: (reason: "booted" | "freed") => void,
    private readonly onUnexpectedExit: (exit: UnexpectedExit) => void,
  ) {
    const workerData: StepWorkerData = {
      preloadModules: options.preloadModules,
      warmUp: options.warmUp,
    };
    this.piscina = new Piscina<StepTask, StepOutcome>({
      filename: options.workerEntry,
      minThreads: options.isolates,
      maxThreads: options.isolates,
      idleTimeout: Number.POSITIVE_INFINITY,
      resourceLimits: {
        maxOldGenerationSizeMb: options.heapMb,
        maxYoungGenerationSizeMb: STEP_YOUNG_GENERATION_MB,
      },
      execArgv: options.execArgv,
      workerData,
      // Idle workers wait on the event loop instead of blocking in Atomics.wait, so a boot-time
      // preload can finish async work and a failing idle isolate is noticed when it fails.
      atomics: "disabled",
      // A declined task goes back to the head of piscina's queue, keeping steps in order.
      stricterFIFO: true,
      recordTiming: false,
      loadBalancer: (_task, workers) => {
        for (const worker of workers) {
          const record = this.#threads.get(worker.id);
          if (
            record?.booted &&
            record.created &&
            !record.used &&
            worker.currentUsage === 0 &&
            !worker.terminating &&
            !worker.destroyed
          ) {
            record.used = true;
            return worker;
          }
        }
        return null;
      },
    });
    this.piscina.on("workerCreate", (worker: { id: number }) => {
      this.#watchNewThreads();
      const record = this.#threads.get(worker.id);
      if (record === undefined) return;
      record.created = true;
      if (record.booted) this.onAvailable("booted");
    });
    this.piscina.on("message", (message: unknown) => {
      const threadId = (message as Record<string, unknown> | null)?.[BOOTED_MESSAGE_KEY];
      if (typeof threadId !== "number") return;
      this.#watchNewThreads();
      const record = this.#threads.get(threadId);
      if (record === undefined) return;
      record.booted = true;
      if (isolateBootedChannel.hasSubscribers) {
        isolateBootedChannel.publish({
          pool: this.options.poolName,
          threadId,
          startedMs: record.seenMs,
          bootMs: performance.now() - record.seenMs,
        });
      }
      this.#wakeBootWaiters();
      if (record.created) this.onAvailable("booted");
    });
    this.piscina.on("workerDestroy", () => queueMicrotask(() => this.#watchNewThreads()));
    // Without a listener, an error on an idle worker is rethrown by the EventEmitter and takes
    // the whole process down. Each thread's own exit handler below reports it instead.
    this.piscina.on("error", () => {});
    this.#watchNewThreads();
  }

  /** Fresh isolates that are booted and waiting for a step. */
  get freshCount(): number {
    let count = 0;
    for (const record of this.#threads.values()) {
      if (record.booted && record.created && !record.used) count++;
    }
    return count;
  }

  /** piscina gave up replacing workers (after a bootstrap failure), so this instance shrinks. */
  isDegraded(): boolean {
    return !this.#retired && this.piscina.threads.length < this.options.isolates;
  }

  run(task: StepTask, signal: AbortSignal): Promise<StepOutcome> {
    this.#inFlight++;
    return this.piscina.run(task, { signal }).finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#drained?.();
    });
  }

  /** Offers the isolate that ran a step to the next step (the pool's `reuseIsolates`). */
  releaseThread(threadId: number): void {
    const record = this.#threads.get(threadId);
    if (record === undefined) return;
    record.used = false;
    this.onAvailable("freed");
  }

  /** Ends the isolate that ran a step; piscina's exit handling boots its replacement. */
  retireThread(threadId: number): void {
    const record = this.#threads.get(threadId);
    if (record !== undefined) record.retiredByUs = true;
    for (const worker of this.piscina.threads) {
      if (worker.threadId === threadId) {
        void worker.terminate();
        return;
      }
    }
  }

  /**
   * Stops reporting exits, lets running steps finish and booting isolates finish booting, then
   * ends every thread. Not `piscina.close()`: in 5.3.2 it counts a worker as done once per
   * task-done event, so with two steps running it can resolve after the first and terminate the
   * second.
   */
  async close(): Promise<void> {
    this.#retired = true;
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    await this.#bootsSettled();
    await this.piscina.destroy();
  }

  /**
   * Resolves once no thread is still booting. Terminating an isolate while its entry module is
   * still evaluating (preloads and warm-up run as top-level await) can abort the whole process
   * inside V8 (`Check failed: (location_) != nullptr` in SourceTextModule::ExecuteAsyncModule,
   * seen once in ~90 pool closes on Node 20.20; nodejs/node#53238). Booting takes tens of ms; an
   * isolate stuck in boot is ended by its boot timer, so this wait is bounded by bootTimeoutMs.
   */
  async #bootsSettled(): Promise<void> {
    for (;;) {
      this.#watchNewThreads();
      if ([...this.#threads.values()].every((record) => record.booted)) return;
      await new Promise<void>((resolve) => this.#bootWaiters.push(resolve));
    }
  }

  #wakeBootWaiters(): void {
    for (const wake of this.#bootWaiters.splice(0)) wake();
  }

  // piscina exposes its Worker objects only as a list, so new ones are picked up whenever the
  // set may have changed (construction, create, destroy events).
  #watchNewThreads(): void {
    for (const worker of this.piscina.threads) {
      if (this.#watched.has(worker)) continue;
      this.#watched.add(worker);
      const record: ThreadRecord = {
        threadId: worker.threadId,
        seenMs: performance.now(),
        booted: false,
        created: false,
        used: false,
        retiredByUs: false,
        error: undefined,
      };
      this.#threads.set(record.threadId, record);
      worker.on("error", (error: Error) => {
        record.error = error;
      });
      // An isolate stuck while booting (a preload that never settles) would never be offered a
      // step and, once every spare is stuck, would stall the pool: end it as a boot failure.
      const bootTimer = setTimeout(() => {
        // Also while closing: close() waits for boots to settle, and this bounds that wait.
        if (record.booted) return;
        record.error = new Error(`did not boot within ${this.options.bootTimeoutMs} ms`);
        void worker.terminate();
      }, this.options.bootTimeoutMs).unref();
      worker.once("exit", (exitCode: number) => {
        clearTimeout(bootTimer);
        this.#threads.delete(record.threadId);
        this.#wakeBootWaiters();
        if (this.#retired || record.retiredByUs || record.used) {
          // A used thread that dies mid-step is reported through that step's promise.
          this.onAvailable("freed");
          return;
        }
        this.onUnexpectedExit({
          kind: record.booted ? "idle" : "boot",
          threadId: record.threadId,
          exitCode,
          error: record.error,
        });
      });
    }
  }
}
