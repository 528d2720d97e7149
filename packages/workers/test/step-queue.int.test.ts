import { createHash } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFsBlobStore } from "@leangraph/serde";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createStepPool,
  STEP_SETTLED_CHANNEL,
  type StepPool,
  type StepSettledEvent,
  WorkersErrorCode,
} from "../src/index.js";
import { STEPS_MODULE, tempDir } from "./helpers.js";
import {
  REDIS_URL,
  redisOrSkip,
  removeQueue,
  spawnWorker,
  startPrivateRedis,
  stopWorker,
  uniqueQueueName,
  type WorkerProcess,
} from "./queue-helpers.js";

const skipReason = await redisOrSkip();

/** Workers on this machine stand in for machines: separate processes sharing a blob dir and Redis. */
function workerEnv(queue: { url: string; name: string }, blobDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LG_STEP_QUEUE: queue.url,
    LG_STEP_QUEUE_NAME: queue.name,
    LG_BLOB_DIR: blobDir,
    LG_WORKER_HEAP_MB: "64",
    LG_MEM_LOG_INTERVAL_S: "0",
  };
}

/** Fast stall detection so a killed worker's step is retaken within seconds. */
const FAST_STALLS = ["--lock-ms", "2000", "--stall-check-ms", "1000"];

describe.skipIf(skipReason !== undefined)("step queue (BullMQ on real Redis)", () => {
  const dirs = { blobs: tempDir("queue-blobs"), out: tempDir("queue-out") };
  const queue = { url: REDIS_URL, name: uniqueQueueName("pool") };
  const workers: WorkerProcess[] = [];
  let pool: StepPool;

  beforeAll(async () => {
    for (const name of ["w1", "w2"]) {
      workers.push(
        spawnWorker({
          name,
          steps: STEPS_MODULE,
          env: workerEnv(queue, dirs.blobs.path),
          args: ["--concurrency", "2", ...FAST_STALLS],
        }),
      );
    }
    await Promise.all(workers.map((worker) => worker.ready));
    pool = createStepPool({
      outputDir: dirs.out.path,
      threads: 4,
      queue: {
        connection: queue.url,
        name: queue.name,
        blobStore: createFsBlobStore({ dir: dirs.blobs.path }),
      },
    });
  });

  afterAll(async () => {
    await pool?.close();
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await removeQueue(queue.name);
    dirs.blobs.remove();
    dirs.out.remove();
  });

  it("runs named steps on worker processes and writes each output here, byte for byte as a local pool does", async () => {
    const requests = Array.from({ length: 8 }, (_, index) => ({
      exportName: "slowRender",
      input: { ms: 300, text: `module ${index}`, repeat: 50 },
      outputName: `src/module-${index}.ts`,
    }));
    const queued = await Promise.all(requests.map((request) => pool.run(request)));

    const local = tempDir("queue-local");
    const localPool = createStepPool({ outputDir: local.path, threads: 2 });
    try {
      for (const [index, request] of requests.entries()) {
        const here = await localPool.run({ ...request, modulePath: STEPS_MODULE });
        expect(readFileSync(queued[index]!.path)).toEqual(readFileSync(here.path));
        expect(queued[index]!.sha256).toBe(here.sha256);
        expect(queued[index]!.path).toBe(join(dirs.out.path, request.outputName));
      }
    } finally {
      await localPool.close();
      local.remove();
    }
    const byWorker = new Set(queued.map((result) => result.workerId));
    expect(byWorker).toEqual(new Set(["w1", "w2"]));
    expect(pool.mode).toBe("queue");
    expect(pool.stats()).toMatchObject({ mode: "queue", succeeded: 8, failed: 0, running: 0 });
  });

  it("sends an input above the inline cap through the shared store, by its sha256", async () => {
    const input = { text: "x".repeat(64 * 1024) };
    const result = await pool.run({ exportName: "inputLength", input, outputName: "len.txt" });
    expect(readFileSync(result.path, "utf8")).toBe(String(JSON.stringify(input).length));
    const inputId = createHash("sha256").update(JSON.stringify(input)).digest("hex");
    const store = createFsBlobStore({ dir: dirs.blobs.path });
    expect(await store.has(inputId)).toBe(true);
  });

  it("rejects with the local pool's codes: thrown, not found, timeout, out of memory after its retries", async () => {
    const failure = (request: { exportName: string; input?: unknown; outputName: string }) =>
      pool.run({ input: {}, ...request }).then(
        () => expect.unreachable(`${request.exportName} should fail`),
        (error) => error,
      );
    const [thrown, missing, timedOut, oom] = await Promise.all([
      failure({ exportName: "throwCoded", outputName: "thrown.txt" }),
      failure({ exportName: "noSuchStep", outputName: "missing.txt" }),
      pool
        .run({ exportName: "spinForever", input: {}, outputName: "spin.txt", timeoutMs: 500 })
        .catch((error) => error),
      pool
        .run({
          exportName: "exhaustHeap",
          input: {},
          outputName: "oom.txt",
          retry: { retries: 1 },
        })
        .catch((error) => error),
    ]);
    expect(thrown).toMatchObject({ code: WorkersErrorCode.failed, attempts: 1 });
    expect(thrown.message).toContain("model returned no code block");
    expect(missing).toMatchObject({ code: WorkersErrorCode.stepNotFound });
    expect(timedOut).toMatchObject({ code: WorkersErrorCode.timeout });
    expect(oom).toMatchObject({ code: WorkersErrorCode.outOfMemory, attempts: 2 });
  });

  it("publishes each settled step on the workers' diagnostics channel, with mode 'queue'", async () => {
    const events: StepSettledEvent[] = [];
    const listener = (event: unknown) => events.push(event as StepSettledEvent);
    subscribe(STEP_SETTLED_CHANNEL, listener);
    try {
      await pool.run({ exportName: "echo", input: { n: 1 }, outputName: "echo.txt" });
      await pool.run({ exportName: "throwCoded", input: {}, outputName: "t2.txt" }).catch(() => {});
    } finally {
      unsubscribe(STEP_SETTLED_CHANNEL, listener);
    }
    expect(
      events.map((event) => [event.exportName, event.outcome, event.mode, event.code]),
    ).toEqual([
      ["echo", "succeeded", "queue", undefined],
      ["throwCoded", "failed", "queue", WorkersErrorCode.failed],
    ]);
  });

  it("a worker SIGKILLed mid-step: another worker runs the step, the result arrives once", async () => {
    const marks = tempDir("queue-marks");
    try {
      const markPath = join(marks.path, "pids");
      const running = pool.run({
        exportName: "slowRender",
        input: { ms: 3_000, text: "survives", markPath },
        outputName: "survivor.txt",
      });
      const victimPid = await waitForFirstLine(markPath);
      const victim = workers.find((worker) => worker.child.pid === victimPid)!;
      expect(victim).toBeDefined();
      victim.child.kill("SIGKILL");
      await victim.exited;
      const result = await running;
      expect(readFileSync(result.path, "utf8")).toBe("survives\n");
      expect(result.workerId).not.toBe(victim.name);
      // The step started twice: once in the killed worker, once where it finished.
      expect(readFileSync(markPath, "utf8").trim().split("\n")).toHaveLength(2);
      // Replace the victim so later tests keep two workers.
      const replacement = spawnWorker({
        name: `${victim.name}b`,
        steps: STEPS_MODULE,
        env: workerEnv(queue, dirs.blobs.path),
        args: ["--concurrency", "2", ...FAST_STALLS],
      });
      workers.splice(workers.indexOf(victim), 1, replacement);
      await replacement.ready;
    } finally {
      marks.remove();
    }
  });

  it("SIGTERM drains a worker: its running step finishes and is delivered", async () => {
    const marks = tempDir("queue-drain");
    try {
      const markPath = join(marks.path, "pids");
      const running = pool.run({
        exportName: "slowRender",
        input: { ms: 1_500, text: "drained", markPath },
        outputName: "drained.txt",
      });
      const pid = await waitForFirstLine(markPath);
      const worker = workers.find((candidate) => candidate.child.pid === pid)!;
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
      const result = await running;
      expect(result.workerId).toBe(worker.name);
      expect(readFileSync(markPath, "utf8").trim().split("\n")).toHaveLength(1);
      expect(worker.log()).toContain("draining");
    } finally {
      marks.remove();
    }
  });
});

describe.skipIf(skipReason !== undefined)("step queue when Redis loses its jobs", () => {
  it("FLUSHALL and a Redis restart mid-run: the pool re-submits what it waits for and loses nothing", async () => {
    const redis = await startPrivateRedis();
    const dirs = {
      blobs: tempDir("flush-blobs"),
      out: tempDir("flush-out"),
      marks: tempDir("flush-marks"),
    };
    const queue = { url: redis.url, name: uniqueQueueName("flush") };
    const worker = spawnWorker({
      name: "w",
      steps: STEPS_MODULE,
      env: workerEnv(queue, dirs.blobs.path),
      args: ["--concurrency", "4", ...FAST_STALLS],
    });
    const pool = createStepPool({
      outputDir: dirs.out.path,
      threads: 4,
      queue: {
        connection: queue.url,
        name: queue.name,
        blobStore: createFsBlobStore({ dir: dirs.blobs.path }),
        reconcileIntervalMs: 200,
      },
    });
    try {
      await worker.ready;
      const markPath = join(dirs.marks.path, "pids");
      const run = (index: number) =>
        pool.run({
          exportName: "slowRender",
          input: { ms: 1_500, text: `step ${index}`, markPath },
          outputName: `out-${index}.txt`,
        });
      const first = Promise.all([0, 1, 2, 3].map(run));
      await waitForFirstLine(markPath);
      await redis.flushAll();
      const second = Promise.all([4, 5, 6, 7].map(run));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await redis.restart();
      const results = [...(await first), ...(await second)];
      for (const [index, result] of results.entries()) {
        expect(readFileSync(result.path, "utf8")).toBe(`step ${index}\n`);
      }
      expect(pool.stats().resubmitted).toBeGreaterThanOrEqual(4);
      expect(pool.stats()).toMatchObject({ succeeded: 8, failed: 0, running: 0 });
    } finally {
      await pool.close();
      await stopWorker(worker);
      await redis.stop();
      for (const dir of Object.values(dirs)) dir.remove();
    }
  });

  it("a queue nobody answers at fails the run with ERR_LG_STEP_QUEUE_UNREACHABLE, naming no password", async () => {
    const redis = await startPrivateRedis();
    await redis.stop();
    const out = tempDir("unreachable");
    const url = `redis://user:s3cret@127.0.0.1:${redis.port}/0`;
    const pool = createStepPool({
      outputDir: out.path,
      queue: {
        connection: url,
        blobStore: createFsBlobStore({ dir: join(out.path, "blobs") }),
        connectTimeoutMs: 1_000,
      },
    });
    try {
      const error = await pool
        .run({ exportName: "echo", input: {}, outputName: "x.txt" })
        .catch((caught) => caught);
      expect(error).toMatchObject({ code: WorkersErrorCode.queueUnreachable });
      expect(error.message).not.toContain("s3cret");
    } finally {
      await pool.close();
      out.remove();
    }
  });
});

/** Waits until `path` has a first line (a step wrote its pid there) and returns it as a number. */
async function waitForFirstLine(path: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const first = readFileSync(path, "utf8").split("\n")[0];
      if (first) return Number(first);
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`nothing written to ${path} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
