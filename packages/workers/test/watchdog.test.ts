import { describe, expect, it } from "vitest";
import {
  formatMemoryLine,
  type LeakWarning,
  type MemoryWatchdogOptions,
  startMemoryWatchdog,
  WorkersErrorCode,
} from "../src/index.js";
import { SampleRing, slopePerMinute } from "../src/watchdog/sample-ring.js";

const MEM_LINE =
  /^\[mem\] rss=\d+\.\dMB heapUsed=\d+\.\dMB heapLimit=\d+\.\dMB limitFrom=(resourceLimits|--max-old-space-size|--max-semi-space-size|heap_size_limit) ext=\d+\.\dMB elDelayP99=\d+\.\dms level=(LOW|MEDIUM|HIGH|CRITICAL)( growth=[+-]\d+\.\d\dMB\/min)?$/;

// Side effects that outlive a watchdog (the near-limit hook is process-wide) stay off in here.
const quiet: MemoryWatchdogOptions = {
  nearHeapLimitSnapshots: 0,
  snapshotSignal: null,
  logIntervalS: 0,
  log: () => {},
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("startMemoryWatchdog", () => {
  it("prints the [mem] line every LG_MEM_LOG_INTERVAL_S seconds", async () => {
    const lines: string[] = [];
    const watchdog = startMemoryWatchdog({
      ...quiet,
      logIntervalS: 1,
      log: (line) => lines.push(line),
    });
    try {
      while (lines.length === 0) await sleep(100);
      expect(lines[0]).toMatch(MEM_LINE);
      expect(formatMemoryLine(watchdog.current())).toMatch(MEM_LINE);
    } finally {
      watchdog.stop();
    }
  });

  it("places the level by heap fraction and remembers peaks", () => {
    const watchdog = startMemoryWatchdog({
      ...quiet,
      levels: { medium: 0.000_001, high: 0.000_002, critical: 0.999 },
    });
    try {
      const sample = watchdog.sampleNow();
      expect(sample.level).toBe("HIGH");
      expect(watchdog.level).toBe("HIGH");
      expect(sample.heapFraction).toBeCloseTo(sample.heapUsedBytes / sample.heapLimitBytes, 10);
      const peaks = watchdog.peaks();
      expect(peaks.level).toBe("HIGH");
      expect(peaks.heapUsedBytes).toBeGreaterThanOrEqual(sample.heapUsedBytes);
    } finally {
      watchdog.stop();
    }
  });

  it("keeps a fixed-size history and warns when heap growth persists over the window", async () => {
    const warnings: LeakWarning[] = [];
    const lines: string[] = [];
    const watchdog = startMemoryWatchdog({
      ...quiet,
      log: (line) => lines.push(line),
      historySize: 8,
      growthWindowMs: 100,
      leakGrowthMbPerMin: 0,
    });
    watchdog.on("leak", (warning) => warnings.push(warning));
    const hoard: number[][] = [];
    try {
      // At least 12 samples whatever the machine's speed: on a loaded machine the 100 ms window
      // fills (and the leak warning fires) after fewer samples than the ring holds.
      for (let round = 0; round < 40 && (round < 12 || warnings.length === 0); round++) {
        hoard.push(new Array(256 * 1024).fill(round)); // 2 MB kept alive per round
        watchdog.sampleNow();
        await sleep(10);
      }
      expect(watchdog.history()).toHaveLength(8);
      const times = watchdog.history().map((sample) => sample.atMs);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings[0]?.growthMbPerMin).toBeGreaterThan(0);
      expect(lines.some((line) => line.startsWith("[mem] possible leak"))).toBe(true);
      expect(watchdog.growthMbPerMin()).toBeGreaterThan(0);
    } finally {
      watchdog.stop();
      hoard.length = 0;
    }
  });

  it("reports no growth rate before it has watched for one whole window", async () => {
    const lines: string[] = [];
    const watchdog = startMemoryWatchdog({
      ...quiet,
      log: (line) => lines.push(line),
      growthWindowMs: 60_000,
      logIntervalS: 1,
    });
    const hoard: number[][] = [];
    try {
      for (let round = 0; round < 5; round++) {
        hoard.push(new Array(256 * 1024).fill(round));
        watchdog.sampleNow();
        await sleep(20);
      }
      await sleep(1100); // one log line
      expect(watchdog.history().length).toBeGreaterThan(2);
      expect(watchdog.growthMbPerMin()).toBeNull();
      const memoryLines = lines.filter((line) => line.startsWith("[mem] rss="));
      expect(memoryLines.length).toBeGreaterThan(0);
      expect(memoryLines.some((line) => line.includes("growth="))).toBe(false);
    } finally {
      watchdog.stop();
      hoard.length = 0;
    }
  });

  it("stop() releases the signal handler and its history", () => {
    const before = process.listenerCount("SIGUSR2");
    const watchdog = startMemoryWatchdog({ ...quiet, snapshotSignal: "SIGUSR2" });
    expect(process.listenerCount("SIGUSR2")).toBe(before + 1);
    watchdog.stop();
    watchdog.stop();
    expect(process.listenerCount("SIGUSR2")).toBe(before);
    watchdog.sampleNow();
    expect(watchdog.history()).toEqual([]);
  });

  it("is inert when disabled (LG_MEM_WATCHDOG=off)", () => {
    const before = process.listenerCount("SIGUSR2");
    const watchdog = startMemoryWatchdog({ ...quiet, enabled: false, snapshotSignal: "SIGUSR2" });
    expect(process.listenerCount("SIGUSR2")).toBe(before);
    expect(watchdog.current().level).toBe("LOW");
    expect(watchdog.history()).toEqual([]);
    watchdog.stop();
  });

  it("rejects bad options naming the option", () => {
    try {
      startMemoryWatchdog({ heapThreshold: 2 });
      throw new Error("expected a rejection");
    } catch (error) {
      expect((error as { code?: string }).code).toBe(WorkersErrorCode.invalidOption);
      expect((error as Error).message).toContain("heapThreshold");
    }
    expect(() => startMemoryWatchdog({ levels: { medium: 0.9, high: 0.5 } })).toThrow(/medium/);
    expect(() => startMemoryWatchdog({ logIntervalSeconds: 5 } as never)).toThrowError(
      expect.objectContaining({
        code: WorkersErrorCode.invalidOption,
        message: expect.stringContaining("logIntervalSeconds=5 is not an option"),
      }),
    );
  });
});

describe("SampleRing and slopePerMinute", () => {
  it("overwrites the oldest entries and returns them oldest first", () => {
    const ring = new SampleRing<number>(3);
    for (let value = 1; value <= 5; value++) ring.push(value);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.latest()).toBe(5);
  });

  it("fits a slope per minute", () => {
    const points = [0, 1, 2, 3].map((minute) => ({
      atMs: minute * 60_000,
      value: 10 + 2 * minute,
    }));
    expect(slopePerMinute(points)).toBeCloseTo(2, 10);
    expect(slopePerMinute(points.slice(0, 1))).toBeNull();
  });
});
