// `pnpm bench` part two: steps over the queue (BullMQ on Redis) against the local pool, in one run.
//
//   - added latency: the same step, one at a time, through createStepPool() here and through the
//     queue to one leangraph-worker process; the difference of the medians is what the queue,
//     the shared store and the second write cost per step;
//   - throughput at 1, 2 and 4 worker processes (separate OS processes, as machines would be),
//     each running CONCURRENCY steps at a time, every step waiting --step-delay-ms like a model
//     call: steps per second, and the ratio to N x the one-worker figure.
//
// Needs Redis (LG_STEP_QUEUE, default redis://127.0.0.1:6379/0); the queue has a name of its own
// and is removed afterwards. Outputs go through a shared directory store (LG_BLOB_DIR-style).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createFsBlobStore } from "@leangraph/serde";
import { Queue } from "bullmq";
import { createStepPool } from "../dist/index.js";

const { values } = parseArgs({
  options: {
    "step-delay-ms": { type: "string", default: "1000" },
    "latency-steps": { type: "string", default: "15" },
    concurrency: { type: "string", default: "2" },
  },
});
const STEP_DELAY_MS = Number(values["step-delay-ms"]);
const LATENCY_STEPS = Number(values["latency-steps"]);
const CONCURRENCY = Number(values.concurrency);
const WORKER_COUNTS = [1, 2, 4];
/** Rounds of steps per worker slot in a throughput run: enough that start and end effects fade. */
const ROUNDS = 4;
const REDIS_URL = process.env.LG_STEP_QUEUE ?? "redis://127.0.0.1:6379/0";
const STEPS_MODULE = fileURLToPath(new URL("./steps.mjs", import.meta.url));
const WORKER_BIN = fileURLToPath(new URL("../dist/bin/leangraph-worker.js", import.meta.url));

const scratch = mkdtempSync(
  join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "lg-queue-bench-"),
);
const blobDir = join(scratch, "blobs");
const queueName = `lg-bench-${process.pid}-${randomBytes(3).toString("hex")}`;

function startWorkers(count) {
  const env = {
    ...process.env,
    LG_STEP_QUEUE: REDIS_URL,
    LG_STEP_QUEUE_NAME: queueName,
    LG_BLOB_DIR: blobDir,
    LG_MEM_LOG_INTERVAL_S: "0",
  };
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const child = spawn(
        process.execPath,
        [
          WORKER_BIN,
          "--steps",
          STEPS_MODULE,
          "--concurrency",
          String(CONCURRENCY),
          "--name",
          `bench-${index + 1}`,
        ],
        { env, stdio: ["ignore", "ignore", "pipe"] },
      );
      let log = "";
      return new Promise((resolve, reject) => {
        child.stderr.on("data", (chunk) => {
          log += chunk;
          if (log.includes(" serves ")) resolve(child);
        });
        child.once("exit", (code) => reject(new Error(`bench worker exited (${code}):\n${log}`)));
      });
    }),
  );
}

async function stopWorkers(children) {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          child.once("exit", resolve);
          child.kill("SIGTERM");
        }),
    ),
  );
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let requestCounter = 0;
function request(delayMs) {
  requestCounter++;
  return {
    modulePath: STEPS_MODULE,
    exportName: "wait",
    input: { ms: delayMs, n: requestCounter },
    outputName: `out/${requestCounter}.txt`,
  };
}

async function sequentialLatencies(pool, delayMs) {
  await pool.run(request(delayMs)); // warm: connections, first import
  const samples = [];
  for (let index = 0; index < LATENCY_STEPS; index++) {
    const started = performance.now();
    await pool.run(request(delayMs));
    samples.push(performance.now() - started);
    // Lets the local pool's replacement spare boot, as between a real agent's steps.
    await sleep(100);
  }
  return samples;
}

function queuePool() {
  return createStepPool({
    outputDir: join(scratch, "agent"),
    threads: 64,
    queue: {
      connection: REDIS_URL,
      name: queueName,
      blobStore: createFsBlobStore({ dir: blobDir }),
    },
  });
}

async function main() {
  console.log(
    `\n## Steps over the queue (BullMQ, Redis ${REDIS_URL.replace(/\/\/[^@]*@/, "//***@")}), --step-delay-ms ${STEP_DELAY_MS}, load average ${loadavg()[0].toFixed(1)}\n`,
  );

  // Added latency per step: local pool vs one queue worker, same step, one at a time.
  const local = createStepPool({ outputDir: join(scratch, "local"), threads: 1 });
  const localMs = await sequentialLatencies(local, STEP_DELAY_MS);
  await local.close();
  let workers = await startWorkers(1);
  const pool = queuePool();
  const queuedMs = await sequentialLatencies(pool, STEP_DELAY_MS);
  await stopWorkers(workers);
  const added = median(queuedMs) - median(localMs);
  console.log(`| one step at a time (${LATENCY_STEPS} steps) | median ms | p90 ms |`);
  console.log("|---|---:|---:|");
  const p90 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)];
  console.log(
    `| local pool (createStepPool) | ${median(localMs).toFixed(1)} | ${p90(localMs).toFixed(1)} |`,
  );
  console.log(
    `| queue, 1 leangraph-worker | ${median(queuedMs).toFixed(1)} | ${p90(queuedMs).toFixed(1)} |`,
  );
  console.log(`\nadded median latency per step: ${added.toFixed(1)} ms (target <= 20 ms)\n`);

  // Throughput at 1, 2, 4 worker processes.
  console.log(
    `| worker processes (x${CONCURRENCY} steps each) | steps | wall s | steps/s | vs N x one worker |`,
  );
  console.log("|---:|---:|---:|---:|---:|");
  let oneWorker;
  for (const count of WORKER_COUNTS) {
    workers = await startWorkers(count);
    const steps = count * CONCURRENCY * ROUNDS;
    const started = performance.now();
    await Promise.all(Array.from({ length: steps }, () => pool.run(request(STEP_DELAY_MS))));
    const wallS = (performance.now() - started) / 1000;
    await stopWorkers(workers);
    const perSecond = steps / wallS;
    oneWorker ??= perSecond;
    const ratio = perSecond / (count * oneWorker);
    console.log(
      `| ${count} | ${steps} | ${wallS.toFixed(2)} | ${perSecond.toFixed(2)} | ${ratio.toFixed(2)} (target >= 0.80) |`,
    );
  }
  await pool.close();
}

try {
  await main();
} finally {
  const queue = new Queue(queueName, { connection: { url: REDIS_URL } });
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  rmSync(scratch, { recursive: true, force: true });
}
