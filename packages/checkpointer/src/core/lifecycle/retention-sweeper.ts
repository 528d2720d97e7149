import { retentionSweepChannel } from "../../diagnostics.js";
import type { GcReport } from "./mark-sweep.js";
import type { RetentionRule } from "./retention.js";

/** A retention policy a saver applies by itself, in the background (like a checkpoint TTL). */
export interface RetentionOptions {
  /** Newest checkpoints kept per thread namespace, whatever their age. */
  keepLast?: number | undefined;
  /** Older checkpoints are removed (the newest `keepLast`, default 1, always stay). */
  maxAgeMs?: number | undefined;
  /**
   * Time between sweeps. Each sweep handles the next `threadsPerSweep` threads.
   * @default 600000 (10 minutes)
   */
  sweepIntervalMs?: number | undefined;
  /**
   * Threads handled per sweep, so one sweep's exclusive transaction stays short.
   * @default 100
   */
  threadsPerSweep?: number | undefined;
  /** Called after each sweep with what it removed. */
  onSweep?: ((report: RetentionSweepReport) => void) | undefined;
  /**
   * Called when a sweep fails (the next one runs as planned).
   * @default process.emitWarning
   */
  onSweepError?: ((error: unknown) => void) | undefined;
}

export interface RetentionSweepReport {
  /** Threads this sweep looked at. */
  threads: number;
  deletedCheckpoints: number;
  /** What the collection after the prune freed. */
  gc: GcReport;
  /** True when this sweep reached the last thread; the next one starts from the first again. */
  completedRound: boolean;
}

/** What the sweeper needs from its saver. */
export interface SweepTarget {
  threadIds(afterThreadId: string | undefined, limit: number): Promise<string[]>;
  pruneForRetention(
    threadIds: readonly string[],
    rule: RetentionRule,
  ): Promise<{ deletedCheckpoints: number; gc: GcReport }>;
}

export const defaultSweepIntervalMs = 600_000;
export const defaultThreadsPerSweep = 100;

/**
 * Applies a retention rule in bounded steps: every interval, the next batch of threads in id
 * order, round after round. The timer is unref'd (it never keeps a process alive) and sweeps
 * never overlap; `stop()` waits for a running sweep.
 */
export class RetentionSweeper {
  readonly #target: SweepTarget;
  readonly #rule: RetentionRule;
  readonly #threadsPerSweep: number;
  readonly #onSweep: (report: RetentionSweepReport) => void;
  readonly #onSweepError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionSweepReport> | undefined;
  /** The last thread id handled; undefined at the start of a round. */
  #cursor: string | undefined;

  constructor(
    target: SweepTarget,
    rule: RetentionRule,
    options: Pick<RetentionOptions, "threadsPerSweep" | "onSweep" | "onSweepError">,
  ) {
    this.#target = target;
    this.#rule = rule;
    this.#threadsPerSweep = options.threadsPerSweep ?? defaultThreadsPerSweep;
    this.#onSweep = options.onSweep ?? (() => {});
    this.#onSweepError =
      options.onSweepError ??
      ((error) =>
        process.emitWarning(`leangraph retention sweep failed: ${(error as Error)?.message}`));
  }

  start(intervalMs: number): void {
    this.stopTimer();
    this.#timer = setInterval(() => {
      if (this.#running !== undefined) return;
      this.sweep().then(this.#onSweep, this.#onSweepError);
    }, intervalMs);
    this.#timer.unref();
  }

  /** One sweep now (waits for a running one first); what the timer calls. */
  async sweep(): Promise<RetentionSweepReport> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined);
    this.#running = this.#sweepOnce();
    try {
      return await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  async #sweepOnce(): Promise<RetentionSweepReport> {
    const threadIds = await this.#target.threadIds(this.#cursor, this.#threadsPerSweep);
    const completedRound = threadIds.length < this.#threadsPerSweep;
    const { deletedCheckpoints, gc } = await this.#target.pruneForRetention(threadIds, this.#rule);
    this.#cursor = completedRound ? undefined : threadIds[threadIds.length - 1];
    if (retentionSweepChannel.hasSubscribers) {
      const { deletedItems, deletedBlobs } = gc;
      retentionSweepChannel.publish({
        threads: threadIds.length,
        deletedCheckpoints,
        deletedItems,
        deletedBlobs,
      });
    }
    return { threads: threadIds.length, deletedCheckpoints, gc, completedRound };
  }

  stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and waits for a sweep in progress (its failure was already reported). */
  async stop(): Promise<void> {
    this.stopTimer();
    await this.#running?.catch(() => undefined);
  }
}
