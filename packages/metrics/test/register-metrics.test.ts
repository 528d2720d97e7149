import type { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import { blobsWrittenChannel } from "@leangraph/serde/diagnostics";
import { createStepPool, startMemoryWatchdog } from "@leangraph/workers";
import { STEP_SETTLED_CHANNEL, stepSettledChannel } from "@leangraph/workers/diagnostics";
import { register as globalRegistry, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { registerLeangraphMetrics } from "../src/index.js";
import { metricFamilies, sampleValue, tempDir } from "./helpers.js";

const stepsModule = fileURLToPath(new URL("./steps.mjs", import.meta.url));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("registerLeangraphMetrics", () => {
  it("counts real worker steps by outcome and code, with duration and isolate heap peak", async () => {
    const registry = new Registry();
    const dir = tempDir("steps");
    cleanups.push(dir.remove);
    const pool = createStepPool({ outputDir: dir.path, threads: 1, warmUp: false });
    cleanups.push(() => pool.close());
    const metrics = registerLeangraphMetrics(registry, { stepPool: pool });
    cleanups.push(() => metrics.unregister());

    const results = [];
    for (const index of [1, 2, 3]) {
      results.push(
        await pool.run({
          modulePath: stepsModule,
          exportName: "allocateThenWrite",
          input: { mb: 8 * index },
          outputName: `held-${index}.txt`,
        }),
      );
    }
    await expect(
      pool.run({ modulePath: stepsModule, exportName: "failCoded", input: {}, outputName: "x" }),
    ).rejects.toBeDefined();

    const text = await registry.metrics();
    expect(
      sampleValue(text, 'leangraph_steps_total{step="allocateThenWrite",outcome="succeeded"}'),
    ).toBe(3);
    expect(
      sampleValue(
        text,
        'leangraph_steps_total{step="failCoded",outcome="failed",code="ERR_LG_STEP_FAILED"}',
      ),
    ).toBe(1);
    expect(
      sampleValue(
        text,
        'leangraph_step_duration_seconds_count{step="allocateThenWrite",outcome="succeeded"}',
      ),
    ).toBe(3);
    expect(
      sampleValue(text, 'leangraph_step_isolate_heap_peak_bytes_count{step="allocateThenWrite"}'),
    ).toBe(3);
    const heapSum = sampleValue(
      text,
      'leangraph_step_isolate_heap_peak_bytes_sum{step="allocateThenWrite"}',
    )!;
    const expected = results.reduce((total, result) => total + result.heapUsedPeakBytes, 0);
    expect(heapSum).toBe(expected);
    // The 24 MB step held at least 24 MB of heap.
    expect(Math.max(...results.map((result) => result.heapUsedPeakBytes))).toBeGreaterThan(
      24 * 1024 * 1024,
    );
    expect(sampleValue(text, "leangraph_step_pool_queue_depth")).toBe(0);
    expect(sampleValue(text, "leangraph_step_pool_busy_workers")).toBe(0);
    expect(sampleValue(text, "leangraph_step_pool_concurrency")).toBe(1);
  });

  it("adds the Node runtime metrics under prom-client's names, into this registry only", async () => {
    const registry = new Registry();
    const before = globalRegistry.getMetricsAsArray().length;
    const metrics = registerLeangraphMetrics(registry);
    cleanups.push(() => metrics.unregister());
    const families = metricFamilies(await registry.metrics());
    for (const name of [
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_gc_duration_seconds",
      "process_resident_memory_bytes",
    ]) {
      expect(families, name).toContain(name);
    }
    expect(globalRegistry.getMetricsAsArray().length).toBe(before);
  });

  it("unregisters: no channel subscriber, no leangraph metric left; registering again works", async () => {
    const registry = new Registry();
    const watchdog = startMemoryWatchdog({ logIntervalS: 0, snapshotSignal: null });
    cleanups.push(() => watchdog.stop());
    const first = registerLeangraphMetrics(registry, { watchdog });
    expect(stepSettledChannel.hasSubscribers).toBe(true);
    expect(blobsWrittenChannel.hasSubscribers).toBe(true);
    expect((watchdog as unknown as EventEmitter).listenerCount("gc")).toBe(1);
    expect(() => registerLeangraphMetrics(registry)).toThrowError(
      expect.objectContaining({ code: "ERR_LG_INVALID_OPTION" }),
    );
    first.unregister();
    first.unregister();
    expect(stepSettledChannel.hasSubscribers).toBe(false);
    expect(blobsWrittenChannel.hasSubscribers).toBe(false);
    expect((watchdog as unknown as EventEmitter).listenerCount("gc")).toBe(0);
    const families = metricFamilies(await registry.metrics());
    expect([...families].filter((name) => name.startsWith("leangraph_"))).toEqual([]);
    // The runtime collectors stay, and are not added twice.
    expect(families).toContain("nodejs_heap_size_used_bytes");
    const second = registerLeangraphMetrics(registry, { watchdog });
    cleanups.push(() => second.unregister());
    expect(second.metricNames).toContain("leangraph_watchdog_pressure_level");
    expect(sampleValue(await registry.metrics(), "leangraph_watchdog_pressure_level")).toBe(0);
  });

  it("two registries each count every event (channels are process-wide)", async () => {
    const [one, two] = [new Registry(), new Registry()];
    const a = registerLeangraphMetrics(one, { runtimeMetrics: false });
    const b = registerLeangraphMetrics(two, { runtimeMetrics: false });
    cleanups.push(
      () => a.unregister(),
      () => b.unregister(),
    );
    stepSettledChannel.publish({
      exportName: "generate",
      label: "generate -> x",
      outcome: "succeeded",
      code: undefined,
      durationMs: 1500,
      attempts: 1,
      heapUsedPeakBytes: 1,
      outputBytes: 1,
      mode: "in-process",
    });
    for (const registry of [one, two]) {
      const text = await registry.metrics();
      expect(sampleValue(text, 'leangraph_steps_total{step="generate",outcome="succeeded"}')).toBe(
        1,
      );
      expect(
        sampleValue(
          text,
          'leangraph_step_duration_seconds_bucket{le="2.5",step="generate",outcome="succeeded"}',
        ),
      ).toBe(1);
      expect(
        sampleValue(
          text,
          'leangraph_step_duration_seconds_bucket{le="1",step="generate",outcome="succeeded"}',
        ),
      ).toBe(0);
      expect(metricFamilies(text)).not.toContain("nodejs_heap_size_used_bytes");
    }
    expect(STEP_SETTLED_CHANNEL).toBe("leangraph:workers:step-settled");
  });

  it("reads storageStats at most once per interval however often it is scraped", async () => {
    const registry = new Registry();
    let reads = 0;
    const checkpointer = {
      async storageStats() {
        reads++;
        return {
          dbBytes: 4096 * reads,
          blobBytes: 100,
          blobCount: 1,
          checkpointCount: 3,
          largestCheckpointRowBytes: 10,
        };
      },
    };
    const metrics = registerLeangraphMetrics(registry, {
      checkpointer,
      runtimeMetrics: false,
      storageStatsIntervalMs: 60_000,
    });
    cleanups.push(() => metrics.unregister());
    const scrapes = await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    scrapes.push(await registry.metrics());
    expect(reads).toBe(1);
    for (const text of scrapes) {
      expect(sampleValue(text, 'leangraph_checkpoint_storage_bytes{part="database"}')).toBe(4096);
      expect(sampleValue(text, 'leangraph_checkpoint_storage_bytes{part="blobs"}')).toBe(100);
      expect(sampleValue(text, "leangraph_checkpoint_stored_checkpoints")).toBe(3);
    }
  });

  it("rejects what is not a registry or a source, naming it", () => {
    expect(() => registerLeangraphMetrics({} as never)).toThrowError(
      expect.objectContaining({
        code: "ERR_LG_INVALID_OPTION",
        message: expect.stringContaining("a prom-client Registry"),
      }),
    );
    expect(() =>
      registerLeangraphMetrics(new Registry(), { stepPool: {} as never, runtimeMetrics: false }),
    ).toThrowError(expect.objectContaining({ message: expect.stringContaining("stepPool={}") }));
    expect(() =>
      registerLeangraphMetrics(new Registry(), { storageStatsIntervalMs: -1 }),
    ).toThrowError(
      expect.objectContaining({ message: expect.stringContaining("storageStatsIntervalMs=-1") }),
    );
    expect(() => registerLeangraphMetrics(new Registry(), { pool: {} } as never)).toThrowError(
      expect.objectContaining({ message: expect.stringContaining("is not an option") }),
    );
  });
});

describe("a failing storageStats()", () => {
  it("keeps the scrape answering: gauges keep their last values, the failure is counted once", async () => {
    const registry = new Registry();
    let fail = false;
    const checkpointer = {
      async storageStats() {
        if (fail) throw new Error("the database is closed");
        return {
          dbBytes: 10,
          blobBytes: 20,
          blobCount: 2,
          checkpointCount: 1,
          largestCheckpointRowBytes: 5,
        };
      },
    };
    const metrics = registerLeangraphMetrics(registry, {
      checkpointer,
      runtimeMetrics: false,
      storageStatsIntervalMs: 0,
    });
    try {
      await registry.metrics();
      fail = true;
      const text = await registry.metrics();
      expect(sampleValue(text, 'leangraph_checkpoint_storage_bytes{part="blobs"}')).toBe(20);
      expect(sampleValue(text, "leangraph_checkpoint_stored_blobs")).toBe(2);
      expect(sampleValue(text, "leangraph_checkpoint_storage_read_errors_total")).toBe(1);
    } finally {
      metrics.unregister();
    }
  });
});
