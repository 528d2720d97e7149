import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, startDemo } from "./demo-process.js";

/*
 * The demo with its generation steps on `leangraph-demo worker` processes (separate OS processes,
 * as separate machines would be), Postgres as the saver and the shared blob store, BullMQ on
 * Redis as the queue; every run's project is compared byte for byte with a local run.
 */

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const recorder = fileURLToPath(new URL("./fixtures/record-modules.mjs", import.meta.url));
const REDIS_URL = process.env.LG_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const workload = ["--modules", "12", "--size", "8kb", "--seed", "queue-test"];

async function redisOrSkip(): Promise<string | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    const reason = `Redis at ${REDIS_URL} is unreachable (${(error as Error).message})`;
    if (process.env.CI === "true") throw new Error(`${reason}; CI=true requires it.`);
    console.warn(`[skip] ${reason}; skipping the demo's step queue tests.`);
    return reason;
  } finally {
    redis.disconnect();
  }
}

const skipReason = (await redisOrSkip()) ?? (await postgresOrSkip("the demo over the step queue"));

let root: string;
let referenceFiles: Map<string, Buffer>;
const cleanups: Array<() => Promise<unknown>> = [];

async function projectFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path));
  }
  return files;
}

async function generationLog(runDir: string): Promise<string[]> {
  const path = join(runDir, "generation-log.ndjson");
  if (!existsSync(path)) return [];
  return (await readFile(path, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line).id as string);
}

/** A queue of the test's own on `redisUrl` and a Postgres schema of its own; both removed after. */
function queueSetup(label: string, redisUrl = REDIS_URL) {
  const queueName = `lg-demo-${label}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  const schema = uniqueSchema(`demo_queue_${label}`);
  cleanups.push(() => dropSchema(schema));
  cleanups.push(async () => {
    const queue = new Queue(queueName, { connection: { url: redisUrl } as never });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  });
  const env: NodeJS.ProcessEnv = {
    LG_STEP_QUEUE: redisUrl,
    LG_STEP_QUEUE_NAME: queueName,
    LG_CHECKPOINTER: "postgres",
    LG_POSTGRES_URL: postgresUrl,
    LG_POSTGRES_SCHEMA: schema,
    LG_BLOB_STORE: "postgres",
    LG_MEM_LOG_INTERVAL_S: "0",
  };
  return { queueName, env };
}

interface DemoWorker {
  name: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}

async function startWorkers(env: NodeJS.ProcessEnv, names: string[]): Promise<DemoWorker[]> {
  const workers = names.map((name) => {
    const child = spawn(
      process.execPath,
      [
        cli,
        "worker",
        "--concurrency",
        "2",
        "--name",
        name,
        "--lock-ms",
        "2000",
        "--stall-check-ms",
        "1000",
      ],
      { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const ready = new Promise<void>((resolve, reject) => {
      let log = "";
      child.stderr!.on("data", (chunk) => {
        log += chunk;
        if (log.includes(" serves ")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`worker ${name} exited (${code}):\n${log}`)));
    });
    return { name, child, exited, ready };
  });
  cleanups.push(async () => {
    for (const worker of workers) worker.child.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.exited));
  });
  await Promise.all(workers.map((worker) => worker.ready));
  return workers;
}

/** Resolves with the worker running a job of the queue right now, waiting until one is. */
async function workerMidStep(
  redisUrl: string,
  queueName: string,
  workers: DemoWorker[],
): Promise<DemoWorker> {
  const queue = new Queue(queueName, { connection: { url: redisUrl } as never });
  try {
    for (;;) {
      for (const job of await queue.getActive()) {
        const worker = workers.find((candidate) => candidate.name === job.processedBy);
        if (worker) return worker;
      }
      await sleep(20);
    }
  } finally {
    await queue.close();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-queue-"));
  if (skipReason !== undefined) return;
  const runDir = join(root, "reference");
  const reference = startDemo(
    [...workload, "--thread", "reference", "--run-dir", runDir, "--json"],
    { LG_WORKER_THREADS: "2", LG_TEST_MODULE_LOG: join(root, "modules-local.log") },
    ["--import", recorder],
  );
  expect(await reference.exited, reference.stderr()).toBe(0);
  referenceFiles = await projectFiles(join(runDir, "project"));
  expect(referenceFiles.size).toBeGreaterThanOrEqual(12);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(skipReason !== undefined)("leangraph-demo over the step queue", () => {
  it("without LG_STEP_QUEUE loads neither bullmq nor ioredis (the local run above)", async () => {
    const loaded = (await readFile(join(root, "modules-local.log"), "utf8")).split("\n");
    expect(loaded.some((url) => /\/workers\/dist\//.test(url))).toBe(true);
    expect(loaded.filter((url) => /\/(bullmq|ioredis)\//.test(url))).toEqual([]);
  });

  it("3 worker processes + Postgres: the project is byte-identical to a local run, steps spread over the workers", async () => {
    const { env } = queueSetup("spread");
    await startWorkers(env, ["w1", "w2", "w3"]);
    const runDir = join(root, "spread");
    const moduleLog = join(root, "modules-queue.log");
    const demo = startDemo(
      [...workload, "--thread", "spread", "--run-dir", runDir, "--step-delay-ms", "300", "--json"],
      { ...env, LG_WORKER_THREADS: "6", LG_TEST_MODULE_LOG: moduleLog },
      ["--import", recorder],
    );
    expect(await demo.exited, demo.stderr()).toBe(0);
    const report = JSON.parse(demo.stdout());
    expect(report).toMatchObject({ status: "completed", files: 12, parseFailures: 0 });
    expect(report.setup.steps).toBe("queue");
    expect(await projectFiles(join(runDir, "project"))).toEqual(referenceFiles);
    const perWorker = Object.values(report.stepsByWorker as Record<string, number>);
    expect(perWorker.filter((steps) => steps > 0).length).toBeGreaterThanOrEqual(2);
    expect(perWorker.reduce((total, steps) => total + steps, 0)).toBe(12);
    // The control for the local run: with LG_STEP_QUEUE set, BullMQ is what carries the steps.
    expect(await readFile(moduleLog, "utf8")).toMatch(/\/bullmq\//);
  });

  it("SIGKILL of a worker mid-step: the run completes, each module once, the re-run steps printed", async () => {
    const { env, queueName } = queueSetup("kill_worker");
    const workers = await startWorkers(env, ["k1", "k2", "k3"]);
    const runDir = join(root, "kill-worker");
    const demo = startDemo(
      [...workload, "--thread", "kill-worker", "--run-dir", runDir, "--step-delay-ms", "1500"],
      { ...env, LG_WORKER_THREADS: "6" },
    );
    const victim = await workerMidStep(REDIS_URL, queueName, workers);
    victim.child.kill("SIGKILL");
    await victim.exited;
    expect(await demo.exited, demo.stderr()).toBe(0);
    const summary = demo.stdout();
    expect(summary).toMatch(/files\s+12\b/);
    expect(summary).toMatch(/re-run steps\s+\d+/);
    // The victim's steps were started again by the other workers.
    expect(Number(summary.match(/queue re-starts\s+(\d+)/)?.[1])).toBeGreaterThanOrEqual(1);
    expect(await projectFiles(join(runDir, "project"))).toEqual(referenceFiles);
    expect(new Set(await generationLog(runDir)).size).toBe(12);
  });

  it("SIGKILL of the agent mid-run, then resume: completes, no module generated again after its result was checkpointed", async () => {
    const { env } = queueSetup("kill_agent");
    await startWorkers(env, ["a1", "a2"]);
    const runDir = join(root, "kill-agent");
    const args = ["--thread", "kill-agent", "--run-dir", runDir];
    const runEnv = { ...env, LG_WORKER_THREADS: "4" };
    const victim = startDemo([...workload, ...args, "--step-delay-ms", "800"], runEnv);
    while ((await generationLog(runDir)).length < 5) {
      if (victim.child.exitCode !== null)
        throw new Error(`the agent exited early:\n${victim.stderr()}`);
      await sleep(20);
    }
    victim.child.kill("SIGKILL");
    await victim.exited;
    const beforeResume = await generationLog(runDir);

    const resumed = startDemo([...args, "--json"], runEnv);
    expect(await resumed.exited, resumed.stderr()).toBe(0);
    expect(JSON.parse(resumed.stdout())).toMatchObject({
      status: "completed",
      resumed: true,
      files: 12,
    });
    const generations = await generationLog(runDir);
    // Steps in flight at the kill finish on the workers and the resumed agent takes their
    // results (same job ids), so nothing is generated twice here at all.
    expect(generations.length).toBe(12);
    expect(new Set(generations).size).toBe(12);
    expect(beforeResume.length).toBeLessThanOrEqual(generations.length);
    expect(await projectFiles(join(runDir, "project"))).toEqual(referenceFiles);
  });

  it("Redis FLUSHALL mid-run: the agent re-submits the lost steps and the run completes with nothing lost", async () => {
    const redis = await startPrivateRedis();
    cleanups.push(redis.stop);
    const { env, queueName } = queueSetup("flush", redis.url);
    const workers = await startWorkers(env, ["f1", "f2"]);
    const runDir = join(root, "flush");
    const demo = startDemo(
      [...workload, "--thread", "flush", "--run-dir", runDir, "--step-delay-ms", "1500", "--json"],
      { ...env, LG_WORKER_THREADS: "4" },
    );
    await workerMidStep(redis.url, queueName, workers);
    await redis.flushAll();
    expect(await demo.exited, demo.stderr()).toBe(0);
    const report = JSON.parse(demo.stdout());
    expect(report).toMatchObject({ status: "completed", files: 12, parseFailures: 0 });
    expect(await projectFiles(join(runDir, "project"))).toEqual(referenceFiles);
    expect(new Set(await generationLog(runDir)).size).toBe(12);
  });
});

/** A Redis of this test's own on a free port, keeping nothing on disk, so FLUSHALL touches no one else. */
async function startPrivateRedis() {
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  const server = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const exited = new Promise((resolve) => server.once("exit", resolve));
  const url = `redis://127.0.0.1:${port}/0`;
  for (let tries = 0; ; tries++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on("error", () => {});
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (error) {
      if (tries > 100) throw error;
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
  return {
    url,
    async flushAll() {
      const redis = new Redis(url);
      await redis.flushall();
      redis.disconnect();
    },
    async stop() {
      server.kill("SIGKILL");
      await exited;
    },
  };
}
