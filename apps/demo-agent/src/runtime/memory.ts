import {
  formatMemoryLine,
  type MemoryWatchdog,
  readHeapLimit,
  startMemoryWatchdog,
  watchdogOptionsFromEnv,
} from "@leangraph/workers";

/**
 * The one place the demo touches the memory watchdog of @leangraph/workers. Besides the watchdog
 * (LG_MEM_WATCHDOG), the demo always samples its own main heap at a fixed rate: the summary's
 * "peak main heap" and the report's heap chart must be measured the same way in every
 * configuration, including stock, where the watchdog is off.
 */
export interface HeapSample {
  /** Milliseconds since the run started. */
  tMs: number;
  heapUsedBytes: number;
  rssBytes: number;
}

export interface MemoryMonitor {
  /** The watchdog when LG_MEM_WATCHDOG is on (the step pool throttles on its pressure levels). */
  readonly watchdog: MemoryWatchdog | undefined;
  /** The live `[mem] …` line. */
  statusLine(): string;
  /** Samples now (also called after every checkpoint so short spikes are less likely missed). */
  sample(): HeapSample;
  peakHeapUsedBytes(): number;
  samples(): HeapSample[];
  stop(): void;
}

/** Enough points to draw a smooth chart of a long run without growing without bound. */
const MAX_SAMPLES = 2_000;

/** Reads LG_MEM_WATCHDOG, LG_MEM_LOG_INTERVAL_S, LG_HEAP_THRESHOLD, LG_SNAPSHOT_DIR. */
export function startMemoryMonitor(options: {
  env: NodeJS.ProcessEnv;
  /** Where the watchdog's periodic `[mem] …` lines and warnings go. */
  log: (line: string) => void;
  /** @default 100 */
  sampleIntervalMs?: number;
}): MemoryMonitor {
  const watchdogOptions = watchdogOptionsFromEnv(options.env);
  const watchdog = watchdogOptions.enabled
    ? startMemoryWatchdog({ ...watchdogOptions, log: options.log })
    : undefined;
  const startedAt = performance.now();
  const heapLimit = readHeapLimit().oldGenerationBytes;
  let history: HeapSample[] = [];
  let peak = 0;
  let stride = 1;
  let tick = 0;
  const sample = (): HeapSample => {
    const usage = process.memoryUsage();
    const point = {
      tMs: Math.round(performance.now() - startedAt),
      heapUsedBytes: usage.heapUsed,
      rssBytes: usage.rss,
    };
    peak = Math.max(peak, point.heapUsedBytes);
    // Keep the history bounded: when full, drop every other point and keep half as many.
    if (tick++ % stride === 0) history.push(point);
    if (history.length >= MAX_SAMPLES) {
      history = history.filter((_, index) => index % 2 === 0);
      stride *= 2;
    }
    return point;
  };
  const timer = setInterval(sample, options.sampleIntervalMs ?? 100);
  timer.unref();
  sample();
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)}MB`;
  let stopped = false;
  return {
    watchdog,
    statusLine() {
      if (watchdog) return formatMemoryLine(watchdog.current(), watchdog.growthMbPerMin());
      const usage = process.memoryUsage();
      return `[mem] rss=${mb(usage.rss)} heapUsed=${mb(usage.heapUsed)} heapLimit=${mb(heapLimit)} (watchdog off)`;
    },
    sample,
    peakHeapUsedBytes: () => peak,
    samples: () => [...history],
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      sample();
      watchdog?.stop();
    },
  };
}
