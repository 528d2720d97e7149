import { getHeapStatistics } from "node:v8";
import { z } from "zod";

/**
 * The one place the demo touches the memory watchdog of @leangraph/workers. Besides the watchdog
 * (LG_MEM_WATCHDOG), the demo always samples its own main heap: the summary's "peak main heap"
 * and the report's heap chart must exist for the stock configuration too, where the watchdog is
 * off.
 */
export interface HeapSample {
  /** Milliseconds since the run started. */
  tMs: number;
  heapUsedBytes: number;
  rssBytes: number;
}

export interface MemoryMonitor {
  /** Whether the @leangraph/workers watchdog runs (LG_MEM_WATCHDOG). */
  readonly watchdog: boolean;
  /** One short line for the live display, e.g. `heap 41 MB / 4.0 GB  rss 160 MB  level LOW`. */
  statusLine(): string;
  /** Samples now (also called after every checkpoint so short spikes are less likely missed). */
  sample(): HeapSample;
  peakHeapUsedBytes(): number;
  samples(): HeapSample[];
  stop(): void;
}

/** Enough points to draw a smooth chart of a long run without growing without bound. */
const MAX_SAMPLES = 2_000;

const onOff = z
  .enum(["on", "off", "true", "false", "1", "0"])
  .transform((v) => ["on", "true", "1"].includes(v));
const flags = z.object({ LG_MEM_WATCHDOG: onOff.default(true) });

export function startMemoryMonitor(options: {
  env: NodeJS.ProcessEnv;
  /** Where the watchdog's `[mem] …` lines go. */
  log: (line: string) => void;
  /** @default 100 */
  sampleIntervalMs?: number;
}): MemoryMonitor {
  const parsed = flags.parse(options.env);
  const startedAt = performance.now();
  const heapLimit = getHeapStatistics().heap_size_limit;
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
    // Keep the history bounded: when full, drop every other point and sample half as often.
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
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  return {
    watchdog: parsed.LG_MEM_WATCHDOG,
    statusLine() {
      const usage = process.memoryUsage();
      return `[mem] heapUsed=${mb(usage.heapUsed)} heapLimit=${mb(heapLimit)} rss=${mb(usage.rss)} peak=${mb(peak)}`;
    },
    sample,
    peakHeapUsedBytes: () => peak,
    samples: () => [...history],
    stop() {
      clearInterval(timer);
      sample();
    },
  };
}
