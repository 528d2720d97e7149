import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

export const REDIS_URL = process.env.LG_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const WORKER_BIN = fileURLToPath(new URL("../dist/bin/leangraph-worker.js", import.meta.url));

/** Undefined when Redis answers; under CI=true an unreachable Redis is a failure, not a skip. */
export async function redisOrSkip(url = REDIS_URL): Promise<string | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    const reason = `Redis at ${url} is unreachable (${(error as Error).message})`;
    if (process.env.CI === "true") throw new Error(`${reason}; CI=true requires it.`);
    console.warn(`[skip] ${reason}; skipping the step queue tests.`);
    return reason;
  } finally {
    redis.disconnect();
  }
}

/** A queue name no other test or run uses. */
export function uniqueQueueName(label: string): string {
  return `lg-test-${label}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Removes every key of the queue (jobs, events, locks). */
export async function removeQueue(name: string, url = REDIS_URL): Promise<void> {
  const queue = new Queue(name, { connection: { url } as never });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  name: string;
  log: () => string;
  /** Resolves once the worker logged that it serves the queue. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

export function spawnWorker(options: {
  name: string;
  steps: string;
  env: NodeJS.ProcessEnv;
  args?: string[];
}): WorkerProcess {
  const child = spawn(
    process.execPath,
    [WORKER_BIN, "--steps", options.steps, "--name", options.name, ...(options.args ?? [])],
    { env: options.env, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(" serves ")) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`worker ${options.name} exited (${code}) before ready:\n${log}`)),
    );
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, name: options.name, log: () => log, ready, exited };
}

/** Ends a worker: SIGTERM (drain) and waits, SIGKILL past `graceMs`. */
export async function stopWorker(worker: WorkerProcess, graceMs = 10_000): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill("SIGTERM");
  const timer = setTimeout(() => worker.child.kill("SIGKILL"), graceMs);
  await worker.exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** FLUSHALL: every queue on it is gone. */
  flushAll(): Promise<void>;
  /** Kills the server and starts a fresh, empty one on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis server of the test's own, on a free port, keeping nothing on disk: flushing or
 * restarting it loses the queue without touching the queues of other tests on :6379.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    for (let tries = 0; tries < 100; tries++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      probe.on("error", () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        probe.disconnect();
      }
    }
    throw new Error(`redis-server on port ${port} did not start`);
  };
  const kill = async () => {
    const running = server;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    url,
    port,
    async flushAll() {
      const redis = new Redis(url);
      try {
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
    },
    async restart() {
      await kill();
      await start();
    },
    stop: kill,
  };
}
