import { unlink } from "node:fs/promises";
import { LeangraphError, StepError, WorkersErrorCode } from "./errors.js";
import {
  FreshIsolatePiscina,
  type UnexpectedExit,
  workerEntryPath,
} from "./fresh-isolate-piscina.js";
import { stepErrorFromOutcome, stepErrorFromRejection } from "./step-faults.js";
import { runStepToFile, type StepResult, type StepTask } from "./step-runner.js";

/** Runs one attempt of a step; the pool's queue decides when, the executor decides where. */
export interface StepExecutor {
  readonly mode: "workers" | "in-process";
  /** Whether an attempt could start right now without waiting for an isolate to boot. */
  canStart(): boolean;
  /** Resolves with the result or rejects with a `StepError`. */
  execute(task: StepTask, label: string, timeoutMs: number): Promise<StepResult>;
  close(): Promise<void>;
}

/**
 * After this many boot failures in a row (no isolate booted in between), waiting steps are
 * rejected instead of booting isolates forever; the next `run()` tries again.
 */
const MAX_CONSECUTIVE_BOOT_FAILURES = 3;

export interface WorkerExecutorOptions {
  threads: number;
  spareWorkers: number;
  heapMb: number;
  preloadModules: string[];
  execArgv: string[];
  bootTimeoutMs: number;
  warmUp: boolean;
  /** Hand an isolate whose step succeeded the next step (see StepPoolOptions.reuseIsolates). */
  reuseIsolates: boolean;
  /** The pool's name, in its diagnostics events. */
  poolName: string;
  /** Called when an isolate may have become available: the queue should try again. */
  onCapacity: () => void;
  /** Faults outside any step (boot, idle); the pool turns them into events. */
  onFault: (fault: LeangraphError) => void;
  /** Steps still waiting when boot keeps failing: reject them all. */
  rejectWaiting: (error: StepError) => void;
}

/**
 * Every attempt in a never-used isolate (see `FreshIsolatePiscina` for how), or with
 * `reuseIsolates` in an isolate whose previous steps all succeeded.
 */
export class WorkerStepExecutor implements StepExecutor {
  readonly mode = "workers";
  #isolates: FreshIsolatePiscina;
  readonly #workerEntry = workerEntryPath();
  readonly #retiring = new Set<Promise<void>>();
  #consecutiveBootFailures = 0;
  #bootBlocked = false;
  #closing = false;

  constructor(private readonly options: WorkerExecutorOptions) {
    this.#isolates = this.#newIsolates();
  }

  canStart(): boolean {
    if (this.#bootBlocked && !this.#closing) {
      // A new request after boot kept failing: give the machine another chance.
      this.#bootBlocked = false;
      this.#consecutiveBootFailures = 0;
      this.#replaceIsolates();
    }
    return this.#isolates.freshCount > 0;
  }

  async execute(task: StepTask, label: string, timeoutMs: number): Promise<StepResult> {
    const isolates = this.#isolates;
    const controller = new AbortController();
    let timedOutAfterMs: number | undefined;
    // A wall-clock budget, enforced from outside: aborting makes piscina terminate the thread,
    // which stops even a step stuck in a synchronous loop.
    const timer = setTimeout(() => {
      timedOutAfterMs = timeoutMs;
      controller.abort();
    }, timeoutMs);
    try {
      const outcome = await isolates.run(task, controller.signal);
      if (outcome.ok && this.options.reuseIsolates) isolates.releaseThread(outcome.result.threadId);
      // A failed step may have left its isolate in any state: the retry gets a fresh one.
      else isolates.retireThread(outcome.ok ? outcome.result.threadId : outcome.threadId);
      if (outcome.ok) return outcome.result;
      throw stepErrorFromOutcome(label, outcome);
    } catch (error) {
      if (error instanceof StepError) throw error;
      // The worker died mid-write: its temp file is all that is left of it.
      await unlink(task.tempPath).catch(() => {});
      throw stepErrorFromRejection(label, error, { timedOutAfterMs, closing: this.#closing });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([this.#isolates.close(), ...this.#retiring]);
  }

  #newIsolates(): FreshIsolatePiscina {
    return new FreshIsolatePiscina(
      {
        workerEntry: this.#workerEntry,
        isolates: this.options.threads + this.options.spareWorkers,
        heapMb: this.options.heapMb,
        preloadModules: this.options.preloadModules,
        execArgv: this.options.execArgv,
        bootTimeoutMs: this.options.bootTimeoutMs,
        warmUp: this.options.warmUp,
        poolName: this.options.poolName,
      },
      (reason) => {
        if (reason === "booted") this.#consecutiveBootFailures = 0;
        this.options.onCapacity();
      },
      (exit) => this.#onUnexpectedExit(exit),
    );
  }

  #onUnexpectedExit(exit: UnexpectedExit): void {
    const boot = exit.kind === "boot";
    const code = boot ? WorkersErrorCode.workerBootFailed : WorkersErrorCode.idleWorkerFailed;
    const what = boot ? "died while booting" : "failed while idle";
    const fault = new LeangraphError(
      code,
      `Worker thread ${exit.threadId} ${what} (exit code ${exit.exitCode})${exit.error ? `: ${exit.error.message}` : ""}`,
      { cause: exit.error },
    );
    this.options.onFault(fault);
    if (boot) this.#consecutiveBootFailures++;
    // piscina replaced the thread unless it had flagged a bootstrap failure; check after its own
    // exit handling has run.
    queueMicrotask(() => {
      if (this.#closing || !this.#isolates.isDegraded()) return;
      if (this.#consecutiveBootFailures >= MAX_CONSECUTIVE_BOOT_FAILURES) {
        this.#bootBlocked = true;
        this.options.rejectWaiting(
          new StepError(
            WorkersErrorCode.workerBootFailed,
            `Fresh workers died while booting ${this.#consecutiveBootFailures} times in a row; the step was not started`,
            {
              cause: fault,
              stepLabel: "pool",
              hint: "Check preloadModules, LG_WORKER_HEAP_MB (too small to boot?) and free memory.",
            },
          ),
        );
        return;
      }
      this.#replaceIsolates();
    });
  }

  #replaceIsolates(): void {
    const retired = this.#isolates;
    try {
      this.#isolates = this.#newIsolates();
    } catch (error) {
      // This runs from exit handlers and microtasks: a throw here would end the host process.
      // Keep the degraded instance and fail the waiting steps with a typed error instead.
      this.#bootBlocked = true;
      const fault = new LeangraphError(
        WorkersErrorCode.workerBootFailed,
        `Could not start a new set of worker isolates: ${(error as Error).message}`,
        { cause: error },
      );
      this.options.onFault(fault);
      this.options.rejectWaiting(
        new StepError(WorkersErrorCode.workerBootFailed, fault.message, {
          cause: fault,
          stepLabel: "pool",
          hint: "Check that the package's dist/ is intact (not rebuilt mid-run) and free memory.",
        }),
      );
      return;
    }
    const closing = retired.close().finally(() => this.#retiring.delete(closing));
    this.#retiring.add(closing);
  }
}

/**
 * `LG_USE_WORKERS=off`: the same step, same output handling, in the main thread. For debugging
 * and comparison only: nothing caps the step's heap, a timeout cannot stop it (the caller gets
 * the error, the step keeps running), and `process.exit` in a step ends the whole process.
 */
export class InProcessStepExecutor implements StepExecutor {
  readonly mode = "in-process";

  canStart(): boolean {
    return true;
  }

  async execute(task: StepTask, label: string, timeoutMs: number): Promise<StepResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            stepErrorFromRejection(label, new Error("timed out"), {
              timedOutAfterMs: timeoutMs,
              closing: false,
            }),
          ),
        timeoutMs,
      );
    });
    try {
      const outcome = await Promise.race([runStepToFile(task, 0), timeout]);
      if (outcome.ok) return outcome.result;
      throw stepErrorFromOutcome(label, outcome);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {}
}
