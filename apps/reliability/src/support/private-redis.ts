import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

/**
 * A Redis server of the scenario's own, on a free port, keeping nothing on disk (as the shared
 * one runs): flushing or restarting it loses its queues without touching anyone else's.
 */
export interface PrivateRedis {
  url: string;
  flushAll(): Promise<void>;
  /** Kills the server (SIGKILL) and starts an empty one on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Undefined when `redis-server` can be started here; otherwise why not. */
export async function privateRedisUnavailableReason(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = spawn("redis-server", ["--version"], { stdio: "ignore" });
    probe.once("error", (error) => resolve(`redis-server cannot be started (${error.message})`));
    probe.once("exit", (code) =>
      resolve(code === 0 ? undefined : `redis-server --version exited ${code}`),
    );
  });
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
    for (let tries = 0; tries < 200; tries++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      probe.on("error", () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        await sleep(50);
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
