// The measurements behind `pnpm bench` (see index.ts for why they run in a plain node process).
//
// Four ways to run the same step (import the step module, run it, write its output atomically
// with sha256 and fsync), measured in one run on this machine:
//   - warm piscina: two reused workers, the lower bound (isolation costing nothing);
//   - fresh-isolate pool: createStepPool, a never-used isolate per step, spares booted ahead;
//   - new Worker per step: the naive way to get a fresh isolate;
//   - fork per step: a fresh process per step.
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { createStepPool } from "../dist/index.js";
import { spin } from "./steps.mjs";

const THREADS = 2;
const HEAP_MB = 768;
const STEPS_MODULE = fileURLToPath(new URL("./steps.mjs", import.meta.url));
const STEPS_URL = pathToFileURL(STEPS_MODULE).href;
const WORKER_ENTRY = fileURLToPath(new URL("../dist/step-worker.js", import.meta.url));
const PER_STEP_WORKER = fileURLToPath(new URL("./worker-per-step.mjs", import.meta.url));
const PER_STEP_FORK = fileURLToPath(new URL("./fork-per-step.mjs", import.meta.url));
const LATENCY_STEPS = 40;
/** Pause between latency samples so the pool's replacement spare has booted (not saturated). */
const LATENCY_PAUSE_MS = 100;
const WORK_SIZES_MS = [10, 50, 200, 1000];
/** Steps per work size: enough to keep both threads busy, few enough for a shared machine. */
const STEPS_FOR_WORK = { 10: 80, 50: 40, 200: 16, 1000: 6 };

// On tmpfs when there is one: the fsync every strategy does is the same cost for all four and,
// on a shared disk, the main source of variance; the bench is about isolation overhead.
const outputDir = mkdtempSync(
  join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "lg-workers-bench-"),
);

function taskFor(iterations, outputName) {
  const outputPath = join(outputDir, outputName);
  return {
    moduleUrl: STEPS_URL,
    exportName: "spin",
    input: { iterations },
    outputName,
    outputPath,
    tempPath: join(outputDir, `.${outputName}.${randomUUID()}.tmp`),
    maxOutputBytes: 1024 * 1024,
  };
}

function expectOk(outcome) {
  if (!outcome.ok) throw new Error(`bench step failed: ${outcome.error.message}`);
  return outcome;
}

function warmPiscina() {
  const piscina = new Piscina({
    filename: WORKER_ENTRY,
    minThreads: THREADS,
    maxThreads: THREADS,
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
    workerData: { preloadModules: [], warmUp: false },
  });
  return {
    name: "warm piscina worker (bound)",
    run: async (iterations, outputName) =>
      expectOk(await piscina.run(taskFor(iterations, outputName))),
    close: () => piscina.destroy(),
  };
}

function freshIsolatePool() {
  const pool = createStepPool({ outputDir, threads: THREADS, heapMb: HEAP_MB });
  return {
    name: "fresh-isolate pool (ours)",
    run: (iterations, outputName) =>
      pool.run({ modulePath: STEPS_MODULE, exportName: "spin", input: { iterations }, outputName }),
    close: () => pool.close(),
  };
}

function workerPerStep() {
  return {
    name: "new Worker per step",
    run: (iterations, outputName) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(PER_STEP_WORKER, {
          workerData: taskFor(iterations, outputName),
          resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
        });
        worker.once("message", (outcome) => resolve(expectOk(outcome)));
        worker.once("error", reject);
      }),
    close: async () => {},
  };
}

function forkPerStep() {
  return {
    name: "child_process.fork per step",
    run: (iterations, outputName) =>
      new Promise((resolve, reject) => {
        const child = fork(PER_STEP_FORK, { execArgv: [`--max-old-space-size=${HEAP_MB}`] });
        child.once("message", (outcome) => resolve(expectOk(outcome)));
        child.once("error", reject);
        child.send(taskFor(iterations, outputName));
      }),
    close: async () => {},
  };
}

function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * spin() rounds per millisecond of CPU on one core, timed with the very function the steps run.
 * CPU time, not wall time: on a shared machine the calibration itself gets descheduled, and a
 * wall-clock rate would make every "200 ms" step several times smaller than it claims.
 */
function calibrate() {
  spin({ iterations: 5_000_000 });
  const rounds = 50_000_000;
  const before = process.cpuUsage();
  spin({ iterations: rounds });
  const used = process.cpuUsage(before);
  return rounds / ((used.user + used.system) / 1000);
}

async function latency(strategy) {
  const wallMs = [];
  await strategy.run(0, "latency-warmup.txt");
  for (let index = 0; index < LATENCY_STEPS; index++) {
    await sleep(LATENCY_PAUSE_MS);
    const started = performance.now();
    await strategy.run(0, `latency-${index}.txt`);
    wallMs.push(performance.now() - started);
  }
  return { median: percentile(wallMs, 0.5), p95: percentile(wallMs, 0.95) };
}

/**
 * CPU used by this process (all its threads) plus its reaped children (the forked steps), in ms.
 * On a shared machine wall-clock throughput moves with the neighbours' load; CPU per step does
 * not, and 2 cores / CPU per step is the throughput this machine would give unloaded.
 */
function cpuMs() {
  const self = process.cpuUsage();
  let children = 0;
  try {
    // /proc/self/stat fields 16 and 17: cutime, cstime in clock ticks (100 per second on Linux).
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    children = ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {}
  return (self.user + self.system) / 1000 + children;
}

async function throughput(strategy, roundsPerMs, workMs) {
  const steps = STEPS_FOR_WORK[workMs];
  const iterations = Math.round(roundsPerMs * workMs);
  let next = 0;
  const cpuBefore = cpuMs();
  const started = performance.now();
  // One caller per thread plus one, like a fan-out that always has a step waiting.
  const caller = async () => {
    while (next < steps) {
      const index = next++;
      await strategy.run(iterations, `tp-${workMs}-${index}.txt`);
    }
  };
  await Promise.all(Array.from({ length: THREADS + 1 }, caller));
  const perSecond = steps / ((performance.now() - started) / 1000);
  return { perSecond, cpuMsPerStep: (cpuMs() - cpuBefore) / steps };
}

const pad = (text, width) => String(text).padEnd(width);
const fixed = (value, digits = 1) => value.toFixed(digits);

try {
  console.log(
    `@leangraph/workers bench: node ${process.version}, ${availableParallelism()} cores, ${THREADS} threads, heap cap ${HEAP_MB} MB`,
  );
  const roundsPerMs = calibrate();
  const strategies = [warmPiscina(), freshIsolatePool(), workerPerStep(), forkPerStep()];
  await sleep(300);

  const latencies = [];
  for (const strategy of strategies) latencies.push(await latency(strategy));

  // Interleaved by work size, so a neighbour's load on this shared machine hits every strategy.
  const rates = strategies.map(() => []);
  for (const workMs of WORK_SIZES_MS) {
    for (const [index, strategy] of strategies.entries()) {
      rates[index].push(await throughput(strategy, roundsPerMs, workMs));
    }
  }
  for (const strategy of strategies) await strategy.close();

  const warmMedian = latencies[0].median;
  console.log(
    `\nPer-step latency, one step at a time, spares booted (trivial step: import, run, atomic write + fsync; n=${LATENCY_STEPS})`,
  );
  console.log(
    `${pad("strategy", 30)}${pad("median ms", 11)}${pad("p95 ms", 9)}added vs warm (median)`,
  );
  for (const [index, strategy] of strategies.entries()) {
    const { median, p95 } = latencies[index];
    console.log(
      `${pad(strategy.name, 30)}${pad(fixed(median), 11)}${pad(fixed(p95), 9)}${fixed(median - warmMedian)} ms`,
    );
  }

  console.log(
    `\nThroughput on ${THREADS} threads, steps/s (ratio to warm bound), by CPU work per step`,
  );
  console.log(`${pad("strategy", 30)}${WORK_SIZES_MS.map((ms) => pad(`${ms} ms`, 16)).join("")}`);
  for (const [index, strategy] of strategies.entries()) {
    const cells = rates[index].map((rate, size) =>
      pad(
        `${fixed(rate.perSecond, 2)} (${fixed(rate.perSecond / rates[0][size].perSecond, 2)}x)`,
        16,
      ),
    );
    console.log(`${pad(strategy.name, 30)}${cells.join("")}`);
  }

  console.log(
    "\nCPU ms per step, all threads and child processes (warm / this = the throughput ratio on an otherwise idle machine)",
  );
  console.log(`${pad("strategy", 30)}${WORK_SIZES_MS.map((ms) => pad(`${ms} ms`, 16)).join("")}`);
  for (const [index, strategy] of strategies.entries()) {
    const cells = rates[index].map((rate, size) =>
      pad(
        `${fixed(rate.cpuMsPerStep)} (${fixed(rates[0][size].cpuMsPerStep / rate.cpuMsPerStep, 2)}x)`,
        16,
      ),
    );
    console.log(`${pad(strategy.name, 30)}${cells.join("")}`);
  }
} finally {
  rmSync(outputDir, { recursive: true, force: true });
}
