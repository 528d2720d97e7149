import type * as BullMQ from "bullmq";
import type { Redis, RedisOptions } from "ioredis";
import { StepError, WorkersErrorCode } from "../errors.js";
import { importOptional } from "./optional-packages.js";
import { shownRedisUrl } from "./redis-url.js";

export interface QueueDriver {
  bullmq: typeof BullMQ;
  /** One ioredis connection to `url`; the caller closes it. */
  connect(url: string): Redis;
}

/** Loads BullMQ and ioredis, only when a queue is configured (both are optional dependencies). */
export async function loadQueueDriver(what: string): Promise<QueueDriver> {
  const bullmq = await importOptional("bullmq", () => import("bullmq"), what);
  const { Redis } = await importOptional("ioredis", () => import("ioredis"), what);
  const options: RedisOptions = {
    // BullMQ requires null: its blocking commands must wait out a Redis restart, not fail after
    // 20 tries. Commands queue while the connection is down and run when it is back.
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
  };
  return {
    bullmq,
    connect: (url) => {
      const redis = new Redis(url, options);
      // While Redis is down every reconnect attempt emits an error; the commands waiting on the
      // connection (and BullMQ's own "error" events) report what matters, so this only keeps
      // ioredis from printing each attempt.
      redis.on("error", () => {});
      return redis;
    },
  };
}

/**
 * Fails fast when nothing answers at `url`: ioredis would otherwise retry forever and the first
 * step would wait without a word. Only at start; later outages are waited out.
 */
export async function assertQueueReachable(
  redis: Redis,
  url: string,
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } catch (error) {
    throw new StepError(
      WorkersErrorCode.queueUnreachable,
      `The step queue at ${shownRedisUrl(url)} did not answer: ${(error as Error).message}`,
      {
        cause: error,
        stepLabel: "queue",
        hint: "Start Redis (redis-server) or fix LG_STEP_QUEUE; the URL is redis://host:port/db.",
      },
    );
  } finally {
    clearTimeout(timer);
  }
}
