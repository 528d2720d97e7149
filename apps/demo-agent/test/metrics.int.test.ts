import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCheckpointer } from "@leangraph/checkpointer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleValue, sleep, startDemo } from "./demo-process.js";

const recorder = fileURLToPath(new URL("./fixtures/record-modules.mjs", import.meta.url));
const MODULES = 10;
/** The metrics' storageStats() read interval (registerLeangraphMetrics' default), plus margin. */
const STORAGE_READ_SETTLE_MS = 5_500;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-metrics-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return response.text();
}

describe("LG_METRICS_PORT during a real demo run", () => {
  it("serves the runtime metrics and every leangraph_* metric with the run's numbers", async () => {
    const moduleLog = join(root, "modules-on.log");
    const runDir = join(root, "on");
    // Naive state with a 2 KB string limit: the generated files are in state, so the serializer
    // writes blobs and the blob counters have something to count.
    const demo = startDemo(
      [
        ...["--modules", String(MODULES), "--size", "6kb", "--state", "naive"],
        ...["--step-delay-ms", "200", "--dashboard", "0", "--json"],
        ...["--thread", "metrics", "--run-dir", runDir],
      ],
      {
        LG_METRICS_PORT: "0",
        LG_WORKER_THREADS: "2",
        LG_MAX_STRING_SIZE: "2kb",
        LG_TEST_MODULE_LOG: moduleLog,
      },
      ["--import", recorder],
    );
    try {
      const [, metricsUrl] = await demo.waitForStderr(
        /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/,
      );
      // During the run: scraped while steps are still to come.
      let during = await scrape(metricsUrl!);
      for (let tries = 0; tries < 200; tries++) {
        const done = sampleValue(
          during,
          'leangraph_steps_total{step="generateModule",outcome="succeeded"}',
        );
        if (done !== undefined && done > 0) break;
        await sleep(100);
        during = await scrape(metricsUrl!);
      }
      const doneDuring = sampleValue(
        during,
        'leangraph_steps_total{step="generateModule",outcome="succeeded"}',
      )!;
      expect(doneDuring).toBeGreaterThan(0);
      expect(sampleValue(during, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);

      await demo.waitForStderr(/Run finished/);
      const report = JSON.parse(demo.stdout());
      expect(doneDuring).toBeLessThan(report.files);
      // A saver of the test's own on the same database and blob store, opened first: opening one
      // writes a page to the WAL, which must happen before the moment compared below.
      const observer = await createCheckpointer({
        env: {
          LG_SQLITE_PATH: join(runDir, "checkpoints.sqlite"),
          LG_BLOB_DIR: join(runDir, "blobs"),
        },
      });
      let storage: Awaited<ReturnType<typeof observer.storageStats>>;
      let text: string;
      try {
        // The last storageStats() read of the metrics may predate the last checkpoint; the next
        // scrape after the read interval reads again, from the saver the run still holds open.
        await sleep(STORAGE_READ_SETTLE_MS);
        text = await scrape(metricsUrl!);
        storage = await observer.storageStats();
      } finally {
        await observer.close();
      }

      // Runtime metrics, under prom-client's conventional names.
      const heapUsed = sampleValue(text, "nodejs_heap_size_used_bytes")!;
      expect(heapUsed).toBeGreaterThan(1024 * 1024);
      expect(sampleValue(text, "process_resident_memory_bytes")).toBeGreaterThan(heapUsed);
      expect(sampleValue(text, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
      expect(sampleValue(text, 'nodejs_gc_duration_seconds_count{kind="minor"}')).toBeGreaterThan(
        0,
      );

      // Steps: one generateModule per module (each generated once: no retries, no faults).
      expect(report.files).toBe(MODULES);
      const generate = 'step="generateModule",outcome="succeeded"';
      expect(sampleValue(text, `leangraph_steps_total{${generate}}`)).toBe(report.generationSteps);
      expect(sampleValue(text, `leangraph_steps_total{${generate}}`)).toBe(MODULES);
      expect(sampleValue(text, `leangraph_step_duration_seconds_count{${generate}}`)).toBe(MODULES);
      expect(
        sampleValue(text, `leangraph_step_duration_seconds_sum{${generate}}`),
      ).toBeGreaterThanOrEqual((MODULES * 200) / 1000);
      const heapPeaks = sampleValue(
        text,
        'leangraph_step_isolate_heap_peak_bytes_count{step="generateModule"}',
      );
      expect(heapPeaks).toBe(MODULES);
      const heapPeakSum = sampleValue(
        text,
        'leangraph_step_isolate_heap_peak_bytes_sum{step="generateModule"}',
      )!;
      expect(heapPeakSum / MODULES).toBeGreaterThan(1024 * 1024);
      expect(heapPeakSum / MODULES).toBeLessThanOrEqual(report.peakWorkerHeapBytes);

      // The pool is idle after the run; the watchdog calm.
      expect(sampleValue(text, "leangraph_step_pool_queue_depth")).toBe(0);
      expect(sampleValue(text, "leangraph_step_pool_busy_workers")).toBe(0);
      expect(sampleValue(text, "leangraph_step_pool_concurrency")).toBe(2);
      expect(sampleValue(text, "leangraph_watchdog_pressure_level")).toBe(0);
      expect(sampleValue(text, "leangraph_watchdog_gc_runs_total")).toBe(0);
      expect(sampleValue(text, "leangraph_watchdog_gc_freed_bytes_total")).toBe(0);
      expect(sampleValue(text, 'leangraph_heap_snapshots_written_total{reason="threshold"}')).toBe(
        0,
      );

      // Checkpoints: one put per stored checkpoint (a fresh thread, no retention).
      expect(sampleValue(text, 'leangraph_checkpoint_puts_total{operation="put"}')).toBe(
        report.checkpoints,
      );
      expect(
        sampleValue(text, 'leangraph_checkpoint_puts_total{operation="putWrites"}'),
      ).toBeGreaterThan(0);
      expect(
        sampleValue(text, 'leangraph_checkpoint_put_bytes_total{operation="put"}'),
      ).toBeGreaterThan(0);
      expect(
        sampleValue(text, 'leangraph_checkpoint_put_duration_seconds_count{operation="put"}'),
      ).toBe(report.checkpoints);
      expect(sampleValue(text, "leangraph_checkpoint_items_written_total")).toBeGreaterThan(0);
      expect(
        sampleValue(text, "leangraph_checkpoint_items_deduplicated_total"),
      ).toBeGreaterThanOrEqual(0);
      // Every generated file is above the 2 KB string limit, so each is a blob at least once.
      const blobs = sampleValue(text, "leangraph_blobs_written_total")!;
      expect(blobs).toBeGreaterThanOrEqual(MODULES);
      expect(sampleValue(text, "leangraph_blob_bytes_written_total")).toBeGreaterThanOrEqual(
        report.bytesGenerated,
      );
      expect(sampleValue(text, "leangraph_blobs_deduplicated_total")).toBeGreaterThanOrEqual(0);
      expect(sampleValue(text, "leangraph_retention_sweeps_total")).toBe(0);
      expect(sampleValue(text, 'leangraph_retention_removed_total{kind="checkpoint"}')).toBe(0);

      // Bytes on disk: exactly what storageStats() reports at that moment.
      expect(storage.checkpointCount).toBe(report.checkpoints);
      expect(sampleValue(text, 'leangraph_checkpoint_storage_bytes{part="database"}')).toBe(
        storage.dbBytes,
      );
      expect(sampleValue(text, 'leangraph_checkpoint_storage_bytes{part="blobs"}')).toBe(
        storage.blobBytes,
      );
      expect(storage.blobBytes).toBe(report.blobBytes);
      expect(sampleValue(text, "leangraph_checkpoint_stored_checkpoints")).toBe(report.checkpoints);
      expect(sampleValue(text, "leangraph_checkpoint_stored_blobs")).toBe(storage.blobCount);
      expect(sampleValue(text, "leangraph_checkpoint_storage_read_errors_total")).toBe(0);

      // No secret and no path in any label: only these label names exist (ours, then prom-client's).
      const labelNames = new Set([...text.matchAll(/[{,]([a-z_]+)="/g)].map((match) => match[1]));
      const declared = ["step", "outcome", "code", "operation", "kind", "part", "reason", "le"];
      const runtime = ["space", "type", "version", "major", "minor", "patch"];
      expect([...labelNames].filter((name) => ![...declared, ...runtime].includes(name!))).toEqual(
        [],
      );
      expect(text).not.toContain(root);

      expect(await demo.interrupt()).toBe(0);
      // LG_METRICS_PORT set: prom-client was loaded (the control for the test below).
      expect(await readFile(moduleLog, "utf8")).toMatch(/\/prom-client\//);
    } finally {
      await demo.interrupt();
    }
  });

  it("loads no prom-client and serves nothing when LG_METRICS_PORT is unset", async () => {
    const moduleLog = join(root, "modules-off.log");
    const demo = startDemo(
      ["--modules", "2", "--size", "2kb", "--thread", "off", "--run-dir", join(root, "off")],
      { LG_METRICS_PORT: "", LG_WORKER_THREADS: "1", LG_TEST_MODULE_LOG: moduleLog },
      ["--import", recorder],
    );
    expect(await demo.exited, demo.stderr()).toBe(0);
    expect(demo.stderr()).not.toMatch(/metrics: http/);
    const loaded = (await readFile(moduleLog, "utf8")).split("\n");
    // The recorder saw the run (the demo's own modules and the metrics flag parser)…
    expect(loaded.some((url) => url.includes("/demo-agent/dist/run/run-agent.js"))).toBe(true);
    expect(loaded.some((url) => url.includes("/metrics/dist/from-env.js"))).toBe(true);
    // …and nothing of prom-client or of the package's prom-client side.
    expect(loaded.filter((url) => url.includes("/prom-client/"))).toEqual([]);
    expect(loaded.filter((url) => url.includes("/metrics/dist/prometheus/"))).toEqual([]);
  });
});
