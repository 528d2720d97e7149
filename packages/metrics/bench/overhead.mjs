/**
 * pnpm --filter @leangraph/metrics bench
 *
 * What the leangraph metrics add, measured side by side in one process: the same step pool,
 * LeanSqliteSaver and memory watchdog run blocks of real worker steps (each in a fresh isolate)
 * and of chat put/getTuple, alternately with the metrics registered (and scraped every second by
 * another process, 15 to 60 times more often than Prometheus usually does) and not registered,
 * on/off then off/on. One process, so what differs between the arms is the metrics and nothing
 * else: two processes differ by more than 2% on their own (memory layout, files, cores).
 *
 * prom-client's runtime collectors (a GC observer, an event-loop histogram) cannot be removed once
 * added, so they are added at the start and run under both arms; their work happens on GC and at
 * scrapes, and scrapes happen only in the "on" arm.
 *
 * BENCH_ROUNDS (default 30) rounds; each runs BENCH_STEPS (10) steps and BENCH_CHAT_TURNS (100)
 * chat turns per arm; BENCH_SCRAPE=off measures the subscribers without scrapes; BENCH_CONTROL=1
 * runs both arms without metrics (the noise floor). Plain node, not tsx: tsx's module hooks would slow every isolate's boot.
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { createStepPool, startMemoryWatchdog } from "@leangraph/workers";
import { Registry } from "prom-client";
import { registerLeangraphMetrics, startMetricsServer } from "../dist/index.js";
import { chatTurns } from "./chat-workload.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const stepsPerBlock = Number(process.env.BENCH_STEPS ?? 10);
const turnsPerBlock = Number(process.env.BENCH_CHAT_TURNS ?? 100);
/** BENCH_SCRAPE=off leaves /metrics unscraped: what the subscribers alone cost. */
const scrapeOn = process.env.BENCH_SCRAPE !== "off";
/**
 * BENCH_CONTROL=1 registers nothing in the "on" blocks either: the two arms are then the same,
 * and what the table shows is this machine's noise floor for the same number of samples.
 */
const control = process.env.BENCH_CONTROL === "1";

const dir = mkdtempSync(join(tmpdir(), "lg-metrics-bench-"));
const stepModule = fileURLToPath(new URL("./steps.mjs", import.meta.url));
const watchdog = startMemoryWatchdog({ logIntervalS: 0, snapshotSignal: null });
const pool = createStepPool({ outputDir: join(dir, "out"), threads: 1 });
const saver = LeanSqliteSaver.fromConnString(join(dir, "checkpoints.sqlite"));
const sources = { stepPool: pool, watchdog, checkpointer: saver };
const registry = new Registry();
registerLeangraphMetrics(registry, sources).unregister(); // leaves the runtime collectors
const server = await startMetricsServer({ registry, port: 0 });
const scraper = fork(fileURLToPath(new URL("./scraper.mjs", import.meta.url)));

function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
const percentOf = (ratio) => `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(2)}%`;

let stepIndex = 0;
async function stepLatenciesMs(count) {
  const latencies = [];
  for (let done = 0; done < count; done++) {
    const started = performance.now();
    await pool.run({
      modulePath: stepModule,
      exportName: "renderSmallModule",
      input: { index: stepIndex },
      outputName: `module-${stepIndex++ % 50}.ts`,
    });
    latencies.push(performance.now() - started);
  }
  return latencies;
}

const samples = {
  on: { step: [], put: [], getTuple: [] },
  off: { step: [], put: [], getTuple: [] },
};
/**
 * Each round's on and off blocks run back to back, so the ratio of their medians sees the same
 * machine load and the same database size; the median of those per-round ratios is what the
 * table's "paired" column shows. The pooled medians drift with whatever else the machine does
 * between rounds, which on a shared 2-core machine is several percent by itself.
 */
const roundRatios = { step: [], put: [], getTuple: [], stepCpu: [], turnCpu: [] };
/** Microseconds of CPU this process (every thread) spent while `work` ran. */
async function cpuUs(work) {
  const before = process.cpuUsage();
  const result = await work();
  const { user, system } = process.cpuUsage(before);
  return { result, us: user + system };
}
async function block(mode, record) {
  const on = mode === "on" && !control;
  const metrics = on ? registerLeangraphMetrics(registry, sources) : undefined;
  scraper.send({ scrape: scrapeOn && on, url: `${server.url}/metrics` });
  try {
    const steps = await cpuUs(() => stepLatenciesMs(stepsPerBlock));
    const chat = await cpuUs(() => chatTurns(saver, turnsPerBlock));
    const { putUs, getTupleUs } = chat.result;
    if (record) {
      samples[mode].step.push(...steps.result);
      samples[mode].put.push(...putUs);
      samples[mode].getTuple.push(...getTupleUs);
    }
    return {
      step: steps.result,
      put: putUs,
      getTuple: getTupleUs,
      stepCpu: [steps.us / stepsPerBlock],
      turnCpu: [chat.us / turnsPerBlock],
    };
  } finally {
    metrics?.unregister();
  }
}

await block("on", false); // warm-up: JIT, spare isolates, SQLite pages
await block("off", false);
for (let round = 0; round < rounds; round++) {
  const blockSamples = {};
  for (const mode of round % 2 === 0 ? ["on", "off"] : ["off", "on"]) {
    blockSamples[mode] = await block(mode, true);
  }
  for (const key of Object.keys(roundRatios)) {
    roundRatios[key].push(median(blockSamples.on[key]) / median(blockSamples.off[key]));
  }
  process.stderr.write(`round ${round + 1}/${rounds}\r`);
}
// What each event costs its subscribers, without the noise of the operations around it: the same
// events the step pool and the saver publish, 100,000 times each, into the registered metrics.
const perEventUs = {};
{
  const { stepSettledChannel } = await import("@leangraph/workers/diagnostics");
  const { checkpointPutChannel } = await import("@leangraph/checkpointer/diagnostics");
  const { blobsWrittenChannel } = await import("@leangraph/serde/diagnostics");
  const events = {
    "step settled": [
      stepSettledChannel,
      {
        exportName: "renderSmallModule",
        label: "x",
        outcome: "succeeded",
        code: undefined,
        durationMs: 40,
        attempts: 1,
        heapUsedPeakBytes: 8e6,
        outputBytes: 5000,
        mode: "workers",
      },
    ],
    "checkpoint put": [
      checkpointPutChannel,
      {
        operation: "put",
        rowBytes: 600,
        itemsWritten: 3,
        itemBytesWritten: 900,
        itemsDeduplicated: 1,
        durationMs: 0.5,
      },
    ],
    "blobs written": [blobsWrittenChannel, { written: 1, bytesWritten: 300000, deduplicated: 0 }],
  };
  const metrics = registerLeangraphMetrics(registry, sources);
  for (const [name, [channel, event]] of Object.entries(events)) {
    const times = 100_000;
    const started = performance.now();
    for (let index = 0; index < times; index++) channel.publish(event);
    perEventUs[name] = ((performance.now() - started) * 1000) / times;
  }
  metrics.unregister();
}
// And what one scrape takes on this process (the first one also reads storageStats()).
const scrapeMs = [];
{
  const metrics = registerLeangraphMetrics(registry, sources);
  for (let index = 0; index < 20; index++) {
    const started = performance.now();
    await registry.metrics();
    scrapeMs.push(performance.now() - started);
  }
  metrics.unregister();
}
const storedCheckpoints = (await saver.storageStats()).checkpointCount;
const { scrapes } = await new Promise((resolve) => {
  scraper.once("message", resolve);
  scraper.send({ exit: true });
});
await server.close();
await pool.close();
await saver.close();
watchdog.stop();
rmSync(dir, { recursive: true, force: true });

console.log(
  control
    ? `\ncontrol (BENCH_CONTROL=1): both arms without metrics, ${rounds} rounds: the noise floor\n`
    : `\nleangraph metrics on vs off, one process, interleaved: ${rounds} rounds, ${scrapes} scrapes of /metrics in the "on" blocks\n`,
);
console.log(
  "| operation | n per arm | median off | median on | added (pooled) | added (paired: median of per-round ratios) | middle half of per-round ratios | target |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const [label, key, unit, digits, target] of [
  ["worker step in a fresh isolate (latency)", "step", "ms", 2, 1],
  ["chat put, LeanSqliteSaver", "put", "µs", 0, 2],
  ["chat getTuple, LeanSqliteSaver", "getTuple", "µs", 0, 2],
]) {
  const off = median(samples.off[key]);
  const on = median(samples.on[key]);
  const ratios = [...roundRatios[key]].sort((a, b) => a - b);
  const quarter = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
  console.log(
    `| ${label} | ${samples.on[key].length} | ${off.toFixed(digits)} ${unit} | ${on.toFixed(digits)} ${unit} | ${percentOf(on / off)} | ${percentOf(median(ratios))} | ${percentOf(quarter(0.25))} … ${percentOf(quarter(0.75))} | ≤ ${target}% |`,
  );
}
// CPU time is what the metrics themselves spend; unlike wall time it does not grow when another
// process takes the core, so on a busy machine it is the steadier of the two.
console.log(
  "\nCPU time of this process (all threads), per block, paired by round: median of per-round ratios (middle half)",
);
for (const [label, key] of [
  ["per worker step (pool, isolate boot, step)", "stepCpu"],
  ["per chat turn (put + getTuple)", "turnCpu"],
]) {
  const ratios = [...roundRatios[key]].sort((a, b) => a - b);
  const quarter = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
  console.log(
    `- ${label}: ${percentOf(median(ratios))} (${percentOf(quarter(0.25))} … ${percentOf(quarter(0.75))})`,
  );
}
console.log(
  `\nper event, into the registered metrics (100,000 each): ${Object.entries(perEventUs)
    .map(([name, us]) => `${name} ${us.toFixed(2)} µs`)
    .join(", ")}`,
);
console.log(
  `one scrape: ${scrapeMs[0].toFixed(1)} ms with a storageStats() read of ${storedCheckpoints} checkpoints, then ${median(scrapeMs.slice(1)).toFixed(1)} ms (median of 19)`,
);
