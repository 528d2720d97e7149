import {
  DEFAULT_HEAP_THRESHOLD,
  DEFAULT_PRESSURE_THRESHOLDS,
  formatMemoryLine,
  type MemoryWatchdog,
  type PressureLevel,
  readHeapLimit,
} from "@leangraph/workers";

/** One point of the memory charts. */
export interface MemoryPoint {
  /** Milliseconds since the dashboard started. */
  tMs: number;
  heapUsedBytes: number;
  rssBytes: number;
  heapLimitBytes: number;
  /** p99 of the event-loop delay over the last tick, in ms. */
  eventLoopDelayP99Ms: number;
  level: PressureLevel;
}

/** One settled step, for the per-step isolate heap chart. */
export interface StepPoint {
  /** 1 for the first step the dashboard saw. */
  index: number;
  outcome: "succeeded" | "failed";
  heapUsedPeakBytes: number | undefined;
  durationMs: number;
}

/** Bytes on disk after the n-th checkpoint the dashboard saw put. */
export interface DiskPoint {
  checkpoints: number;
  bytes: number;
}

/** Where the watchdog acts, as fractions of the heap limit (drawn as lines on the heap chart). */
export interface HeapThresholds {
  medium: number;
  high: number;
  critical: number;
  snapshot: number;
}

export interface PoolPoint {
  waiting: number;
  running: number;
  concurrency: number;
}

/** Everything the page shows; sent whole on connect, then as increments every tick. */
export interface DashboardSnapshot {
  title: string;
  startedAtMs: number;
  thresholds: HeapThresholds;
  memory: MemoryPoint[];
  steps: StepPoint[];
  disk: DiskPoint[];
  stepsSucceeded: number;
  stepsFailed: number;
  checkpointsPut: number;
  pool: PoolPoint | undefined;
  memoryLine: string;
}

/** What changed since the previous tick. */
export type DashboardTick = Omit<DashboardSnapshot, "title" | "startedAtMs" | "thresholds">;

/** Enough points for hours at one per second without growing without bound. */
const MAX_MEMORY_POINTS = 3_600;
const MAX_STEP_POINTS = 2_000;
const MAX_DISK_POINTS = 2_000;

/** Keeps a series bounded: when full, every other point goes (the chart keeps its shape). */
function pushBounded<T>(series: T[], point: T, max: number): void {
  series.push(point);
  if (series.length > max) {
    let kept = 0;
    for (let index = 0; index < series.length; index += 2) series[kept++] = series[index]!;
    series.length = kept;
  }
}

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)}MB`;

/**
 * The dashboard's memory of the run: bounded series the page draws, fed by ticks (memory, pool)
 * and events (steps, puts, disk reads). Increments since the last `takeTick()` are kept apart
 * so each SSE message carries only what is new.
 */
export class DashboardState {
  readonly #title: string;
  readonly #startedAtMs = Date.now();
  readonly #startedAt = performance.now();
  readonly #thresholds: HeapThresholds;
  readonly #memory: MemoryPoint[] = [];
  readonly #steps: StepPoint[] = [];
  readonly #disk: DiskPoint[] = [];
  #pending: { memory: MemoryPoint[]; steps: StepPoint[]; disk: DiskPoint[] } = {
    memory: [],
    steps: [],
    disk: [],
  };
  #stepsSeen = 0;
  #stepsSucceeded = 0;
  #stepsFailed = 0;
  #checkpointsPut = 0;
  #pool: PoolPoint | undefined;
  #memoryLine = "";

  constructor(title: string, thresholds: HeapThresholds) {
    this.#title = title;
    this.#thresholds = thresholds;
  }

  get checkpointsPut(): number {
    return this.#checkpointsPut;
  }

  lastDiskPoint(): DiskPoint | undefined {
    return this.#disk[this.#disk.length - 1];
  }

  recordMemory(point: Omit<MemoryPoint, "tMs">, memoryLine: string, pool: PoolPoint | undefined) {
    const full = { tMs: Math.round(performance.now() - this.#startedAt), ...point };
    pushBounded(this.#memory, full, MAX_MEMORY_POINTS);
    this.#pending.memory.push(full);
    this.#memoryLine = memoryLine;
    this.#pool = pool;
  }

  recordStep(step: Omit<StepPoint, "index">): void {
    if (step.outcome === "succeeded") this.#stepsSucceeded++;
    else this.#stepsFailed++;
    const point = { index: ++this.#stepsSeen, ...step };
    pushBounded(this.#steps, point, MAX_STEP_POINTS);
    this.#pending.steps.push(point);
  }

  recordCheckpointPut(): void {
    this.#checkpointsPut++;
  }

  recordDisk(point: DiskPoint): void {
    const last = this.#disk[this.#disk.length - 1];
    if (last !== undefined && last.checkpoints === point.checkpoints) return;
    pushBounded(this.#disk, point, MAX_DISK_POINTS);
    this.#pending.disk.push(point);
  }

  snapshot(): DashboardSnapshot {
    return {
      title: this.#title,
      startedAtMs: this.#startedAtMs,
      thresholds: this.#thresholds,
      memory: [...this.#memory],
      steps: [...this.#steps],
      disk: [...this.#disk],
      ...this.#counters(),
    };
  }

  /** What arrived since the previous call. */
  takeTick(): DashboardTick {
    const pending = this.#pending;
    this.#pending = { memory: [], steps: [], disk: [] };
    return { ...pending, ...this.#counters() };
  }

  #counters() {
    return {
      stepsSucceeded: this.#stepsSucceeded,
      stepsFailed: this.#stepsFailed,
      checkpointsPut: this.#checkpointsPut,
      pool: this.#pool,
      memoryLine: this.#memoryLine,
    };
  }
}

/** The watchdog's thresholds, or without one the defaults a watchdog would use. */
export function thresholdsOf(watchdog: MemoryWatchdog | undefined): HeapThresholds {
  return (
    watchdog?.thresholds() ?? { ...DEFAULT_PRESSURE_THRESHOLDS, snapshot: DEFAULT_HEAP_THRESHOLD }
  );
}

/**
 * One memory reading: the watchdog's latest sample (so the page shows what the watchdog acts
 * on), or the process's own numbers when the agent runs without one.
 */
export function readMemory(
  watchdog: MemoryWatchdog | undefined,
  eventLoopDelayP99Ms: number,
): { point: Omit<MemoryPoint, "tMs">; line: string } {
  if (watchdog?.enabled) {
    const sample = watchdog.current();
    return {
      point: {
        heapUsedBytes: sample.heapUsedBytes,
        rssBytes: sample.rssBytes,
        heapLimitBytes: sample.heapLimitBytes,
        eventLoopDelayP99Ms,
        level: sample.level,
      },
      line: formatMemoryLine(sample, watchdog.growthMbPerMin()),
    };
  }
  const usage = process.memoryUsage();
  // The watchdog's limit (the old generation's), so the chart's ceiling is where the process dies.
  const heapLimitBytes = readHeapLimit().oldGenerationBytes;
  return {
    point: {
      heapUsedBytes: usage.heapUsed,
      rssBytes: usage.rss,
      heapLimitBytes,
      eventLoopDelayP99Ms,
      level: "LOW",
    },
    line: `[mem] rss=${mb(usage.rss)} heapUsed=${mb(usage.heapUsed)} heapLimit=${mb(heapLimitBytes)} elDelayP99=${eventLoopDelayP99Ms.toFixed(1)}ms (watchdog off)`,
  };
}
