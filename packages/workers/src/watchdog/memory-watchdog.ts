import { EventEmitter } from "node:events";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { setHeapSnapshotNearHeapLimit } from "node:v8";
import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import {
  DEFAULT_HEAP_THRESHOLD,
  DEFAULT_MEM_LOG_INTERVAL_S,
  DEFAULT_SNAPSHOT_DIR,
} from "../config.js";
import { booleanOption, fractionOfHeap, numberAtLeast, wholeNumber } from "../option-schemas.js";
import { type HeapLimit, type HeapLimitSource, readHeapLimit } from "./heap-limit.js";
import { HeapSnapshots, type SnapshotOutcome, type SnapshotReason } from "./heap-snapshots.js";
import {
  DEFAULT_PRESSURE_THRESHOLDS,
  isAtLeast,
  levelStart,
  type PressureChange,
  type PressureLevel,
  type PressureSource,
  type PressureThresholds,
  pressureLevelOf,
} from "./pressure-level.js";
import { SampleRing, slopePerMinute } from "./sample-ring.js";

export interface MemoryWatchdogOptions {
  /** `false` returns an inert watchdog: no timers, no signal handler, level stays LOW. @default true (LG_MEM_WATCHDOG) */
  enabled?: boolean;
  /** How often memory is sampled. @default 1000 */
  sampleIntervalMs?: number;
  /** Seconds between `[mem] …` log lines; 0 for none. @default 60 (LG_MEM_LOG_INTERVAL_S) */
  logIntervalS?: number;
  /** Where log lines go. @default a line on stderr */
  log?: (line: string) => void;
  /** Heap used / old-generation limit at which a snapshot is written. @default 0.85 (LG_HEAP_THRESHOLD) */
  heapThreshold?: number;
  /** Where the pressure levels start, as fractions of the old-generation limit. @default { medium: 0.6, high: 0.75, critical: 0.9 } */
  levels?: { medium?: number; high?: number; critical?: number };
  /** Directory for heap snapshots. @default <os tmpdir>/leangraph-heap-snapshots (LG_SNAPSHOT_DIR) */
  snapshotDir?: string;
  /** Threshold snapshots per process at most. @default 3 */
  maxSnapshots?: number;
  /** Minimum time between threshold snapshots. @default 600000 */
  snapshotCooldownMs?: number;
  /** Free disk to keep on top of a snapshot's expected size (2x heap used), in MB. @default 256 */
  minFreeDiskMb?: number;
  /** Snapshots V8 writes itself just before a heap OOM (into cwd or --diagnostic-dir); 0 disables. Process-wide and permanent once set. @default 1 */
  nearHeapLimitSnapshots?: number;
  /** Signal that asks for a snapshot; null for none. @default "SIGUSR2" */
  snapshotSignal?: NodeJS.Signals | null;
  /** Run a full GC on entering HIGH pressure when the process has --expose-gc. @default true */
  gcOnHighPressure?: boolean;
  /** How far below a level's start the heap must fall before the level goes down. @default 0.05 */
  levelHysteresis?: number;
  /** Samples kept in the ring. @default 600 */
  historySize?: number;
  /** Window for the growth rate. @default 300000 */
  growthWindowMs?: number;
  /** Growth (MB/min) that, sustained over a whole window, raises a leak warning. @default 1 */
  leakGrowthMbPerMin?: number;
}

const optionsSchema = z.strictObject({
  enabled: booleanOption.default(true),
  sampleIntervalMs: wholeNumber(10, 3_600_000, "milliseconds").default(1000),
  logIntervalS: wholeNumber(0, 86_400, "seconds").default(DEFAULT_MEM_LOG_INTERVAL_S),
  log: z
    .custom<(line: string) => void>((value) => typeof value === "function", {
      message: "a function (line: string) => void",
    })
    .default(() => (line: string) => {
      process.stderr.write(`${line}\n`);
    }),
  heapThreshold: fractionOfHeap("the snapshot threshold").default(DEFAULT_HEAP_THRESHOLD),
  levels: z
    .strictObject(
      {
        medium: fractionOfHeap("where MEDIUM starts").optional(),
        high: fractionOfHeap("where HIGH starts").optional(),
        critical: fractionOfHeap("where CRITICAL starts").optional(),
      },
      { message: "an object { medium?, high?, critical? } of heap fractions" },
    )
    .default({})
    .transform((levels) => ({ ...DEFAULT_PRESSURE_THRESHOLDS, ...levels }))
    .refine((levels) => levels.medium <= levels.high && levels.high <= levels.critical, {
      message: "levels with medium <= high <= critical",
    }),
  snapshotDir: z
    .string({ message: "a directory path" })
    .min(1, "a non-empty directory path")
    .default(DEFAULT_SNAPSHOT_DIR),
  maxSnapshots: wholeNumber(0, 1000, "snapshots").default(3),
  snapshotCooldownMs: wholeNumber(0, Number.MAX_SAFE_INTEGER, "milliseconds").default(600_000),
  minFreeDiskMb: numberAtLeast(0, "MB").default(256),
  nearHeapLimitSnapshots: wholeNumber(0, 100, "snapshots").default(1),
  snapshotSignal: z
    .string({ message: 'a signal name such as "SIGUSR2", or null for none' })
    .regex(/^SIG[A-Z0-9]+$/, 'a signal name such as "SIGUSR2", or null for none')
    .nullable()
    .default("SIGUSR2"),
  gcOnHighPressure: booleanOption.default(true),
  levelHysteresis: z
    .number({ message: "a fraction from 0 to 0.5" })
    .min(0, "a fraction from 0 to 0.5")
    .max(0.5, "a fraction from 0 to 0.5")
    .default(0.05),
  historySize: wholeNumber(2, 1_000_000, "samples").default(600),
  growthWindowMs: wholeNumber(1, Number.MAX_SAFE_INTEGER, "milliseconds").default(300_000),
  leakGrowthMbPerMin: numberAtLeast(0, "MB per minute").default(1),
});

/** One reading of the process's memory. */
export interface MemorySample {
  /** Epoch milliseconds. */
  atMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /**
   * The old generation's limit: where the process dies with "heap out of memory" (V8's
   * `heap_size_limit` minus the young generation's reserve; see `readHeapLimit()`).
   */
  heapLimitBytes: number;
  /** Where `heapLimitBytes` came from. */
  heapLimitSource: HeapLimitSource;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** heapUsed / heapLimit: young objects that survive are promoted, so all of heapUsed must fit. */
  heapFraction: number;
  /** p99 event-loop delay since the last log line, in ms. */
  eventLoopDelayP99Ms: number;
  level: PressureLevel;
}

/** The highest values seen since the watchdog started. */
export interface MemoryPeaks {
  heapUsedBytes: number;
  rssBytes: number;
  heapFraction: number;
  level: PressureLevel;
}

export interface LeakWarning {
  growthMbPerMin: number;
  windowMs: number;
  heapUsedBytes: number;
}

export interface GcReport {
  level: PressureLevel;
  beforeBytes: number;
  afterBytes: number;
  freedBytes: number;
}

interface WatchdogEvents {
  sample: [MemorySample];
  level: [PressureChange];
  leak: [LeakWarning];
  snapshot: [SnapshotOutcome];
  gc: [GcReport];
}

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)}MB`;

/** The `[mem] …` line, exported so callers can print the same line on their own schedule. */
export function formatMemoryLine(sample: MemorySample, growthMbPerMin?: number | null): string {
  const growth =
    growthMbPerMin === undefined || growthMbPerMin === null
      ? ""
      : ` growth=${growthMbPerMin >= 0 ? "+" : ""}${growthMbPerMin.toFixed(2)}MB/min`;
  return (
    `[mem] rss=${mb(sample.rssBytes)} heapUsed=${mb(sample.heapUsedBytes)} ` +
    `heapLimit=${mb(sample.heapLimitBytes)} limitFrom=${sample.heapLimitSource} ext=${mb(sample.externalBytes)} ` +
    `elDelayP99=${sample.eventLoopDelayP99Ms.toFixed(1)}ms level=${sample.level}${growth}`
  );
}

export interface MemoryWatchdog extends PressureSource {
  readonly enabled: boolean;
  readonly level: PressureLevel;
  /** The limit pressure is measured against, read once at start (it does not change at runtime). */
  readonly heapLimit: HeapLimit;
  /** The latest sample (taken now if none yet). */
  current(): MemorySample;
  peaks(): MemoryPeaks;
  /** Samples in the ring, oldest first. */
  history(): MemorySample[];
  /**
   * Heap growth over the window in MB/min (least squares). Null until the watchdog has watched
   * for one whole window: a rate fitted over the first seconds measures start-up (modules, JIT,
   * caches filling), not a trend, and printed `growth=+296MB/min` right after start.
   */
  growthMbPerMin(): number | null;
  /** Samples and evaluates immediately (levels, threshold snapshot, leak check). */
  sampleNow(): MemorySample;
  /** Where the pressure levels start and where a threshold snapshot is written (heap fractions). */
  thresholds(): PressureThresholds & { snapshot: number };
  /** Writes a snapshot now (skips cooldown and count, not the disk check). */
  snapshotNow(reason?: SnapshotReason): Promise<SnapshotOutcome>;
  on<E extends keyof WatchdogEvents>(
    event: E,
    listener: (...args: WatchdogEvents[E]) => void,
  ): this;
  off<E extends keyof WatchdogEvents>(
    event: E,
    listener: (...args: WatchdogEvents[E]) => void,
  ): this;
  /** Clears timers, the signal handler and the event-loop histogram; idempotent. */
  stop(): void;
}

class DefaultMemoryWatchdog extends EventEmitter implements MemoryWatchdog {
  readonly enabled: boolean;
  level: PressureLevel = "LOW";
  readonly heapLimit: HeapLimit = readHeapLimit();
  readonly #options: z.output<typeof optionsSchema>;
  readonly #ring: SampleRing<MemorySample>;
  readonly #snapshots: HeapSnapshots;
  readonly #eventLoopDelay: IntervalHistogram;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #onSignal = () => {
    void this.snapshotNow("signal");
  };
  #peaks: MemoryPeaks = { heapUsedBytes: 0, rssBytes: 0, heapFraction: 0, level: "LOW" };
  #growthAboveLeakSinceMs: number | undefined;
  #leakWarnedAtMs = Number.NEGATIVE_INFINITY;
  #stopped = false;
  readonly #startedAtMs = Date.now();

  constructor(options: z.output<typeof optionsSchema>) {
    super();
    this.#options = options;
    this.enabled = options.enabled;
    this.#ring = new SampleRing(options.historySize);
    this.#snapshots = new HeapSnapshots({
      directory: options.snapshotDir,
      maxSnapshots: options.maxSnapshots,
      cooldownMs: options.snapshotCooldownMs,
      minFreeDiskBytes: options.minFreeDiskMb * MB,
    });
    this.#eventLoopDelay = monitorEventLoopDelay({ resolution: 20 });
    if (!this.enabled) return;
    this.#eventLoopDelay.enable();
    // unref'd: watching memory must never be the reason the process stays alive.
    this.#timers.push(setInterval(() => this.sampleNow(), options.sampleIntervalMs).unref());
    if (options.logIntervalS > 0) {
      this.#timers.push(setInterval(() => this.#logLine(), options.logIntervalS * 1000).unref());
    }
    if (options.nearHeapLimitSnapshots > 0) {
      setHeapSnapshotNearHeapLimit(options.nearHeapLimitSnapshots);
    }
    if (options.snapshotSignal !== null) {
      process.on(options.snapshotSignal as NodeJS.Signals, this.#onSignal);
    }
    this.sampleNow();
  }

  current(): MemorySample {
    return this.#ring.latest() ?? this.sampleNow();
  }

  peaks(): MemoryPeaks {
    return { ...this.#peaks };
  }

  thresholds(): PressureThresholds & { snapshot: number } {
    return { ...this.#options.levels, snapshot: this.#options.heapThreshold };
  }

  history(): MemorySample[] {
    return this.#ring.toArray();
  }

  growthMbPerMin(): number | null {
    const since = Date.now() - this.#options.growthWindowMs;
    if (since < this.#startedAtMs) return null;
    const points = this.#ring
      .toArray()
      .filter((sample) => sample.atMs >= since)
      .map((sample) => ({ atMs: sample.atMs, value: sample.heapUsedBytes / MB }));
    return slopePerMinute(points);
  }

  sampleNow(): MemorySample {
    const memory = process.memoryUsage();
    const heapLimitBytes = this.heapLimit.oldGenerationBytes;
    const heapFraction = memory.heapUsed / heapLimitBytes;
    const delayP99Ns = this.#eventLoopDelay.count > 0 ? this.#eventLoopDelay.percentile(99) : 0;
    const sample: MemorySample = {
      atMs: Date.now(),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      heapLimitBytes,
      heapLimitSource: this.heapLimit.source,
      externalBytes: memory.external,
      arrayBuffersBytes: memory.arrayBuffers,
      heapFraction,
      eventLoopDelayP99Ms: delayP99Ns / 1e6,
      level: this.enabled ? pressureLevelOf(heapFraction, this.#options.levels) : "LOW",
    };
    if (!this.enabled || this.#stopped) return sample;
    this.#updateLevel(sample);
    this.#ring.push(sample);
    this.#recordPeaks(sample);
    this.emit("sample", sample);
    if (heapFraction >= this.#options.heapThreshold) {
      void this.#snapshotAndReport("threshold", sample.heapUsedBytes);
    }
    this.#checkLeak(sample);
    return sample;
  }

  snapshotNow(reason: SnapshotReason = "manual"): Promise<SnapshotOutcome> {
    return this.#snapshotAndReport(reason, process.memoryUsage().heapUsed);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
    this.#eventLoopDelay.disable();
    if (this.#options.snapshotSignal !== null) {
      process.off(this.#options.snapshotSignal as NodeJS.Signals, this.#onSignal);
    }
    this.#ring.clear();
    this.removeAllListeners();
  }

  #recordPeaks(sample: MemorySample): void {
    const peaks = this.#peaks;
    peaks.heapUsedBytes = Math.max(peaks.heapUsedBytes, sample.heapUsedBytes);
    peaks.rssBytes = Math.max(peaks.rssBytes, sample.rssBytes);
    peaks.heapFraction = Math.max(peaks.heapFraction, sample.heapFraction);
    if (isAtLeast(sample.level, peaks.level)) peaks.level = sample.level;
  }

  #updateLevel(sample: MemorySample): void {
    const from = this.level;
    if (sample.level === from) return;
    // Going down needs the heap to fall clearly below the level's start, or a GC that frees a
    // little would flap HIGH -> MEDIUM -> HIGH and re-trigger everything tied to HIGH.
    if (!isAtLeast(sample.level, from)) {
      const start = levelStart(from, this.#options.levels);
      if (sample.heapFraction > start - this.#options.levelHysteresis) {
        sample.level = from;
        return;
      }
    }
    this.level = sample.level;
    this.emit("level", { from, to: sample.level, heapFraction: sample.heapFraction });
    if (isAtLeast(sample.level, "HIGH") && !isAtLeast(from, "HIGH")) this.#collectGarbage();
  }

  // Only on entering HIGH, not at every HIGH sample: a full GC pauses the process, and a GC
  // storm is worse than the pressure it answers.
  #collectGarbage(): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!this.#options.gcOnHighPressure || typeof gc !== "function") return;
    const beforeBytes = process.memoryUsage().heapUsed;
    gc();
    const afterBytes = process.memoryUsage().heapUsed;
    const report: GcReport = {
      level: this.level,
      beforeBytes,
      afterBytes,
      freedBytes: beforeBytes - afterBytes,
    };
    this.#options.log(
      `[mem] gc at ${this.level} pressure freed ${mb(report.freedBytes)} (heapUsed ${mb(beforeBytes)} -> ${mb(afterBytes)})`,
    );
    this.emit("gc", report);
  }

  #checkLeak(sample: MemorySample): void {
    const growth = this.growthMbPerMin();
    const window = this.#options.growthWindowMs;
    if (growth === null || growth <= this.#options.leakGrowthMbPerMin) {
      this.#growthAboveLeakSinceMs = undefined;
      return;
    }
    this.#growthAboveLeakSinceMs ??= sample.atMs;
    const sustained = sample.atMs - this.#growthAboveLeakSinceMs >= window;
    if (!sustained || sample.atMs - this.#leakWarnedAtMs < window) return;
    this.#leakWarnedAtMs = sample.atMs;
    const warning: LeakWarning = {
      growthMbPerMin: growth,
      windowMs: window,
      heapUsedBytes: sample.heapUsedBytes,
    };
    this.#options.log(
      `[mem] possible leak: heap grew ${growth.toFixed(2)}MB/min for ${(window / 60_000).toFixed(1)} min (heapUsed=${mb(sample.heapUsedBytes)})`,
    );
    this.emit("leak", warning);
  }

  #logLine(): void {
    const sample = this.sampleNow();
    this.#options.log(formatMemoryLine(sample, this.growthMbPerMin()));
    // The p99 in each line covers the interval since the previous line.
    this.#eventLoopDelay.reset();
  }

  async #snapshotAndReport(
    reason: SnapshotReason,
    heapUsedBytes: number,
  ): Promise<SnapshotOutcome> {
    let outcome: SnapshotOutcome;
    try {
      outcome = await this.#snapshots.take(reason, heapUsedBytes);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      outcome = { taken: false, reason, skipped: "error", why };
    }
    // While pressure lasts every sample asks for a threshold snapshot; the budget refusing them
    // is the normal case and not worth a line. A full disk or an error is.
    const routine = reason === "threshold" && !outcome.taken && outcome.skipped !== "disk-full";
    if (outcome.taken) {
      this.#options.log(
        `[mem] heap snapshot (${reason}) written to ${outcome.path} in ${outcome.ms.toFixed(0)} ms`,
      );
    } else if (!routine) {
      this.#options.log(`[mem] heap snapshot (${reason}) skipped: ${outcome.why}`);
    }
    this.emit("snapshot", outcome);
    return outcome;
  }
}

/**
 * Starts watching this process's memory: pressure levels with events, growth rate and leak
 * warning, a periodic `[mem] …` line, budgeted heap snapshots (threshold, near the heap limit,
 * on SIGUSR2), and a GC on entering HIGH pressure when --expose-gc is on. Options are validated
 * here, once; `stop()` releases every timer and handler.
 */
export function startMemoryWatchdog(options: MemoryWatchdogOptions = {}): MemoryWatchdog {
  return new DefaultMemoryWatchdog(
    parseOptions(optionsSchema, options, "startMemoryWatchdog(options)"),
  );
}
