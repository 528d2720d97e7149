import type { StorageStats } from "@leangraph/checkpointer";
import { LeangraphError, MetricsErrorCode, parseOptions } from "@leangraph/errors";
import {
  type GcReport,
  PRESSURE_LEVELS,
  type SnapshotOutcome,
  type StepPoolStats,
} from "@leangraph/workers";
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type Metric,
  type Registry,
} from "prom-client";
import { z } from "zod";
import { subscribeToLeangraphEvents } from "../leangraph-events.js";
import { type LeangraphSources, sourcesShape } from "../sources.js";
import { StorageStatsSampler } from "../storage-stats-sampler.js";

export interface LeangraphMetricsOptions extends LeangraphSources {
  /**
   * Also register prom-client's Node runtime collectors (`nodejs_heap_size_used_bytes`,
   * `nodejs_eventloop_lag_p99_seconds`, `nodejs_gc_duration_seconds`,
   * `process_resident_memory_bytes`, …) into the same registry, once per registry.
   * @default true
   */
  runtimeMetrics?: boolean;
  /** `storageStats()` is read at most this often, however often the registry is scraped. @default 5000 */
  storageStatsIntervalMs?: number;
}

export interface LeangraphMetrics {
  /** Every `leangraph_*` metric name this registration added, in registration order. */
  readonly metricNames: readonly string[];
  /**
   * Unsubscribes from every channel and watchdog event and removes the `leangraph_*` metrics from
   * the registry; idempotent. The runtime collectors stay (see README: prom-client never releases
   * their GC observer and event-loop histogram, so they are added once per registry and kept).
   */
  unregister(): void;
}

const optionsSchema = z.strictObject({
  ...sourcesShape,
  runtimeMetrics: z.boolean({ message: "true or false" }).default(true),
  storageStatsIntervalMs: z
    .number({ message: "a whole number of milliseconds from 0 to 3600000" })
    .int("a whole number of milliseconds from 0 to 3600000")
    .min(0, "a whole number of milliseconds from 0 to 3600000")
    .max(3_600_000, "a whole number of milliseconds from 0 to 3600000")
    .default(5000),
});

const registryShape = z.custom<Registry>(
  (value) =>
    value !== null &&
    typeof value === "object" &&
    typeof (value as Registry).registerMetric === "function" &&
    typeof (value as Registry).removeSingleMetric === "function",
  { message: "a prom-client Registry (new Registry())" },
);

const MiB = 1024 * 1024;
/** From a 5 ms in-process step to a 10-minute one (LG_STEP_TIMEOUT_MS's default). */
const stepDurationBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];
/** Powers of two from 8 MiB to 8 GiB: an isolate's heap cap is 16 MB to 64 GB (LG_WORKER_HEAP_MB). */
const heapPeakBuckets = Array.from({ length: 11 }, (_, power) => 8 * MiB * 2 ** power);
const putDurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** One name every registry carries after collectDefaultMetrics; its presence means "already added". */
const RUNTIME_MARKER_METRIC = "nodejs_heap_size_used_bytes";

/**
 * Registers the `leangraph_*` metrics (and, by default, the Node runtime's) into `registry`, a
 * prom-client Registry the caller owns: nothing is added to prom-client's global registry.
 * Counters and histograms follow diagnostics_channel events from every leangraph part of the
 * process; gauges read the given sources when the registry is collected.
 *
 * @example
 * const registry = new Registry();
 * const metrics = registerLeangraphMetrics(registry, { stepPool: pool, watchdog, checkpointer });
 * app.get("/metrics", async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 */
export function registerLeangraphMetrics(
  registry: Registry,
  options: LeangraphMetricsOptions = {},
): LeangraphMetrics {
  const checkedRegistry = parseOptions(
    z.strictObject({ registry: registryShape }),
    { registry },
    "registerLeangraphMetrics(registry, options)",
  ).registry;
  const parsed = parseOptions(
    optionsSchema,
    options,
    "registerLeangraphMetrics(registry, options)",
  );
  if (checkedRegistry.getSingleMetric("leangraph_steps_total") !== undefined) {
    throw new LeangraphError(
      MetricsErrorCode.invalidOption,
      "registerLeangraphMetrics(registry, options): this registry already holds the leangraph metrics.",
      { hint: "Call unregister() on the earlier registration first, or use a new Registry()." },
    );
  }
  if (
    parsed.runtimeMetrics &&
    checkedRegistry.getSingleMetric(RUNTIME_MARKER_METRIC) === undefined
  ) {
    collectDefaultMetrics({ register: checkedRegistry });
  }

  const owned: Metric[] = [];
  const registers = [checkedRegistry];
  const own = <M extends Metric>(metric: M): M => {
    owned.push(metric);
    return metric;
  };

  const stepDuration = own(
    new Histogram({
      name: "leangraph_step_duration_seconds",
      help: "Worker steps from run() to settling (queue, isolate boot, every attempt), by step function and outcome.",
      labelNames: ["step", "outcome"],
      buckets: stepDurationBuckets,
      registers,
    }),
  );
  const steps = own(
    new Counter({
      name: "leangraph_steps_total",
      help: "Worker steps settled, by step function, outcome (succeeded, failed) and the failure's error code.",
      labelNames: ["step", "outcome", "code"],
      registers,
    }),
  );
  const stepHeapPeak = own(
    new Histogram({
      name: "leangraph_step_isolate_heap_peak_bytes",
      help: "Peak heap of the fresh isolate that ran each successful step, by step function.",
      labelNames: ["step"],
      buckets: heapPeakBuckets,
      registers,
    }),
  );
  const checkpointPuts = own(
    new Counter({
      name: "leangraph_checkpoint_puts_total",
      help: "Committed put and putWrites calls of lean savers, by operation.",
      labelNames: ["operation"],
      registers,
    }),
  );
  const checkpointPutBytes = own(
    new Counter({
      name: "leangraph_checkpoint_put_bytes_total",
      help: "Bytes lean savers' puts wrote: rows plus items not stored before, by operation.",
      labelNames: ["operation"],
      registers,
    }),
  );
  const checkpointPutDuration = own(
    new Histogram({
      name: "leangraph_checkpoint_put_duration_seconds",
      help: "Lean saver put and putWrites calls, from the call to the commit, by operation.",
      labelNames: ["operation"],
      buckets: putDurationBuckets,
      registers,
    }),
  );
  const itemsWritten = own(
    new Counter({
      name: "leangraph_checkpoint_items_written_total",
      help: "Content-addressed items (values, tree nodes, chunks) lean savers stored new.",
      registers,
    }),
  );
  const itemsDeduplicated = own(
    new Counter({
      name: "leangraph_checkpoint_items_deduplicated_total",
      help: "Items lean savers' puts encoded that were already stored, so were not stored again.",
      registers,
    }),
  );
  const blobsWritten = own(
    new Counter({
      name: "leangraph_blobs_written_total",
      help: "Blobs the redacting serializer handed to its blob store.",
      registers,
    }),
  );
  const blobBytesWritten = own(
    new Counter({
      name: "leangraph_blob_bytes_written_total",
      help: "Bytes of the blobs the redacting serializer handed to its blob store.",
      registers,
    }),
  );
  const blobsDeduplicated = own(
    new Counter({
      name: "leangraph_blobs_deduplicated_total",
      help: "Blobs the redacting serializer skipped because the store already held them.",
      registers,
    }),
  );
  const retentionSweeps = own(
    new Counter({
      name: "leangraph_retention_sweeps_total",
      help: "Background retention sweeps (LG_RETENTION_*) completed.",
      registers,
    }),
  );
  const retentionRemoved = own(
    new Counter({
      name: "leangraph_retention_removed_total",
      help: "What retention sweeps removed, by kind (checkpoint, item, blob).",
      labelNames: ["kind"],
      registers,
    }),
  );

  const unsubscribe = subscribeToLeangraphEvents({
    stepSettled(event) {
      const step = event.exportName;
      stepDuration.observe({ step, outcome: event.outcome }, event.durationMs / 1000);
      if (event.code === undefined) steps.inc({ step, outcome: event.outcome });
      else steps.inc({ step, outcome: event.outcome, code: event.code });
      if (event.heapUsedPeakBytes !== undefined)
        stepHeapPeak.observe({ step }, event.heapUsedPeakBytes);
    },
    checkpointPut(event) {
      const labels = { operation: event.operation };
      checkpointPuts.inc(labels);
      checkpointPutBytes.inc(labels, event.rowBytes + event.itemBytesWritten);
      checkpointPutDuration.observe(labels, event.durationMs / 1000);
      itemsWritten.inc(event.itemsWritten);
      itemsDeduplicated.inc(event.itemsDeduplicated);
    },
    blobsWritten(event) {
      blobsWritten.inc(event.written);
      blobBytesWritten.inc(event.bytesWritten);
      blobsDeduplicated.inc(event.deduplicated);
    },
    retentionSweep(event) {
      retentionSweeps.inc();
      retentionRemoved.inc({ kind: "checkpoint" }, event.deletedCheckpoints);
      retentionRemoved.inc({ kind: "item" }, event.deletedItems);
      retentionRemoved.inc({ kind: "blob" }, event.deletedBlobs);
    },
  });
  const stopWatching: Array<() => void> = [unsubscribe];

  const { stepPool, watchdog, checkpointer } = parsed;
  if (stepPool !== undefined) {
    // Each gauge reads its own value: a registry collects its metrics concurrently.
    const poolGauge = (name: string, help: string, read: (stats: StepPoolStats) => number) => {
      const gauge: Gauge = own(
        new Gauge({ name, help, registers, collect: () => gauge.set(read(stepPool.stats())) }),
      );
    };
    poolGauge(
      "leangraph_step_pool_queue_depth",
      "Steps waiting in the step pool's queue.",
      (stats) => stats.waiting,
    );
    poolGauge(
      "leangraph_step_pool_busy_workers",
      "Steps running in the step pool right now.",
      (stats) => stats.running,
    );
    poolGauge(
      "leangraph_step_pool_concurrency",
      "Steps the pool lets run at once now (its threads, lowered under memory pressure).",
      (stats) => stats.concurrency,
    );
  }

  if (watchdog !== undefined) {
    const pressureLevel: Gauge = own(
      new Gauge({
        name: "leangraph_watchdog_pressure_level",
        help: `Memory watchdog pressure level: ${PRESSURE_LEVELS.map((level, index) => `${index} ${level}`).join(", ")}.`,
        registers,
        collect() {
          pressureLevel.set(PRESSURE_LEVELS.indexOf(watchdog.level));
        },
      }),
    );
    const gcRuns = own(
      new Counter({
        name: "leangraph_watchdog_gc_runs_total",
        help: "Full GCs the watchdog ran on entering HIGH pressure (needs --expose-gc).",
        registers,
      }),
    );
    const gcFreed = own(
      new Counter({
        name: "leangraph_watchdog_gc_freed_bytes_total",
        help: "Heap bytes the watchdog's GC runs freed.",
        registers,
      }),
    );
    const snapshots = own(
      new Counter({
        name: "leangraph_heap_snapshots_written_total",
        help: "Heap snapshots the watchdog wrote, by reason (threshold, signal, manual).",
        labelNames: ["reason"],
        registers,
      }),
    );
    const onGc = (report: GcReport) => {
      gcRuns.inc();
      gcFreed.inc(Math.max(0, report.freedBytes));
    };
    const onSnapshot = (outcome: SnapshotOutcome) => {
      if (outcome.taken) snapshots.inc({ reason: outcome.reason });
    };
    // Zero-valued series from the start, so a rate() over them is defined before the first one.
    gcRuns.inc(0);
    for (const reason of ["threshold", "signal", "manual"]) snapshots.inc({ reason }, 0);
    watchdog.on("gc", onGc);
    watchdog.on("snapshot", onSnapshot);
    stopWatching.push(() => {
      watchdog.off("gc", onGc);
      watchdog.off("snapshot", onSnapshot);
    });
  }

  if (checkpointer !== undefined) {
    const sampler = new StorageStatsSampler(
      () => checkpointer.storageStats(),
      parsed.storageStatsIntervalMs,
    );
    const storageReadErrors = own(
      new Counter({
        name: "leangraph_checkpoint_storage_read_errors_total",
        help: "storageStats() reads that failed; the storage gauges then keep their last values.",
        registers,
        // Waits for this scrape's read, so a failure shows in the same scrape.
        collect: async () => {
          await currentStats();
        },
      }),
    );
    // A failed read (a closed saver, a database that went away) must not fail the whole scrape:
    // the runtime and step metrics still answer, and the error is counted.
    let countedFailure: Promise<StorageStats> | undefined;
    const currentStats = () => {
      const reading = sampler.current();
      return reading.catch(() => {
        // The gauges share one read; its failure counts once.
        if (countedFailure !== reading) storageReadErrors.inc();
        countedFailure = reading;
        return undefined;
      });
    };
    // One read serves all three gauges (the sampler shares it), each collected on its own.
    const storageBytes: Gauge = own(
      new Gauge({
        name: "leangraph_checkpoint_storage_bytes",
        help: "Bytes the checkpointer holds on disk, by part (database, blobs); read at most every few seconds.",
        labelNames: ["part"],
        registers,
        async collect() {
          const stats = await currentStats();
          if (stats === undefined) return;
          storageBytes.set({ part: "database" }, stats.dbBytes);
          storageBytes.set({ part: "blobs" }, stats.blobBytes);
        },
      }),
    );
    const storageGauge = (name: string, help: string, read: (stats: StorageStats) => number) => {
      const gauge: Gauge = own(
        new Gauge({
          name,
          help,
          registers,
          async collect() {
            const stats = await currentStats();
            if (stats !== undefined) gauge.set(read(stats));
          },
        }),
      );
    };
    storageGauge(
      "leangraph_checkpoint_stored_checkpoints",
      "Checkpoints stored by the checkpointer.",
      (stats) => stats.checkpointCount,
    );
    storageGauge(
      "leangraph_checkpoint_stored_blobs",
      "Blobs in the checkpointer's blob store.",
      (stats) => stats.blobCount,
    );
  }

  // Labelled counters start at zero for their known label values, so every series exists.
  for (const operation of ["put", "putWrites"]) {
    checkpointPuts.inc({ operation }, 0);
    checkpointPutBytes.inc({ operation }, 0);
  }
  for (const kind of ["checkpoint", "item", "blob"]) retentionRemoved.inc({ kind }, 0);

  let registered = true;
  return {
    metricNames: owned.map((metric) => (metric as unknown as { name: string }).name),
    unregister() {
      if (!registered) return;
      registered = false;
      for (const stop of stopWatching) stop();
      for (const metric of owned) {
        const name = (metric as unknown as { name: string }).name;
        if (checkedRegistry.getSingleMetric(name) === metric)
          checkedRegistry.removeSingleMetric(name);
      }
    },
  };
}
