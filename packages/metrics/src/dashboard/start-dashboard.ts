import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import { DEFAULT_METRICS_HOST } from "../flags.js";
import { listen } from "../http-listen.js";
import { subscribeToLeangraphEvents } from "../leangraph-events.js";
import { type LeangraphSources, sourcesShape } from "../sources.js";
import { StorageStatsSampler } from "../storage-stats-sampler.js";
import { dashboardPage } from "./dashboard-page.js";
import { DashboardState, readMemory, thresholdsOf } from "./dashboard-state.js";

export interface DashboardOptions extends LeangraphSources {
  /** 0 lets the OS pick a free port (read it from the returned `url`). @default 0 */
  port?: number;
  /** @default "127.0.0.1": the page shows the machine's memory, so only this machine sees it */
  host?: string;
  /** Shown in the page's title. @default "leangraph" */
  title?: string;
  /** How often the page gets a new memory point. @default 1000 */
  tickMs?: number;
  /** `storageStats()` is read at most this often (only after new checkpoints). @default 2000 */
  storageStatsIntervalMs?: number;
}

export interface Dashboard {
  /** e.g. http://127.0.0.1:41234/ */
  url: string;
  port: number;
  /** Stops the timer, the subscriptions and the server, ending every open page's stream. */
  close(): Promise<void>;
}

const wholeMs = (min: number, max: number) => {
  const accepted = `a whole number of milliseconds from ${min} to ${max}`;
  return z.number({ message: accepted }).int(accepted).min(min, accepted).max(max, accepted);
};

const optionsSchema = z.strictObject({
  ...sourcesShape,
  port: z
    .number({ message: "a TCP port from 0 to 65535" })
    .int("a TCP port from 0 to 65535")
    .min(0, "a TCP port from 0 to 65535")
    .max(65_535, "a TCP port from 0 to 65535")
    .default(0),
  host: z.string({ message: "a host name or IP address" }).min(1).default(DEFAULT_METRICS_HOST),
  title: z.string({ message: "a string" }).max(200, "at most 200 characters").default("leangraph"),
  tickMs: wholeMs(50, 60_000).default(1000),
  storageStatsIntervalMs: wholeMs(0, 3_600_000).default(2000),
});

/**
 * Serves a live page for a running agent: main heap, RSS and event-loop delay over time with the
 * watchdog's thresholds, steps done and failed, each step's isolate heap peak, checkpoint bytes
 * on disk over checkpoints, and the latest `[mem]` line. The page is one self-contained HTML
 * document (no CDN, no build step) kept up to date by server-sent events from `/events`;
 * `/state.json` returns the same data once. Every source is optional: the page shows what it
 * is given.
 *
 * @example
 * const dashboard = await startDashboard({ port: 7777, watchdog, stepPool: pool, checkpointer });
 * console.log(`dashboard at ${dashboard.url}`);
 */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const parsed = parseOptions(optionsSchema, options, "startDashboard(options)");
  const { watchdog, stepPool, checkpointer } = parsed;
  const state = new DashboardState(parsed.title, thresholdsOf(watchdog));
  const sampler =
    checkpointer === undefined
      ? undefined
      : new StorageStatsSampler(() => checkpointer.storageStats(), parsed.storageStatsIntervalMs);
  const unsubscribe = subscribeToLeangraphEvents({
    stepSettled: (event) =>
      state.recordStep({
        outcome: event.outcome,
        heapUsedPeakBytes: event.heapUsedPeakBytes,
        durationMs: event.durationMs,
      }),
    checkpointPut: (event) => {
      if (event.operation === "put") state.recordCheckpointPut();
    },
  });

  const streams = new Set<ServerResponse>();
  const send = (response: ServerResponse, event: string, data: unknown) =>
    response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  // The page's event-loop delay is the last tick's, not the watchdog's (which spans its whole
  // log interval): a chart of one-second windows shows when the loop stalled.
  const eventLoopDelay = monitorEventLoopDelay({ resolution: 10 });
  eventLoopDelay.enable();
  let diskRead: Promise<void> | undefined;
  const tick = () => {
    const p99Ms = eventLoopDelay.count > 0 ? eventLoopDelay.percentile(99) / 1e6 : 0;
    eventLoopDelay.reset();
    const { point, line } = readMemory(watchdog, p99Ms);
    const pool = stepPool?.stats();
    state.recordMemory(
      point,
      line,
      pool && {
        waiting: pool.waiting,
        running: pool.running,
        concurrency: pool.concurrency,
      },
    );
    // Bytes on disk change only when something is put: read them once at the start, then after
    // new checkpoints (at most every storageStatsIntervalMs).
    const checkpoints = state.checkpointsPut;
    const lastRead = state.lastDiskPoint()?.checkpoints;
    if (
      sampler !== undefined &&
      diskRead === undefined &&
      (lastRead === undefined || checkpoints > lastRead)
    ) {
      diskRead = sampler
        .current()
        .then((stats) => state.recordDisk({ checkpoints, bytes: stats.dbBytes + stats.blobBytes }))
        // A failed read (a saver closing) leaves a gap in the chart; the next tick tries again.
        .catch(() => undefined)
        .finally(() => {
          diskRead = undefined;
        });
    }
    const update = state.takeTick();
    for (const response of streams) send(response, "tick", update);
  };
  tick();
  const timer = setInterval(tick, parsed.tickMs).unref();

  const page = dashboardPage(parsed.title);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405, { allow: "GET" }).end();
      return;
    }
    if (path === "/") {
      response.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        // Everything is inline; nothing may be fetched from elsewhere.
        "content-security-policy":
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      });
      response.end(page);
    } else if (path === "/events") {
      response.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      send(response, "snapshot", state.snapshot());
      streams.add(response);
      request.on("close", () => streams.delete(response));
    } else if (path === "/state.json") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(state.snapshot()));
    } else {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      response.end("Not found: the dashboard is at /\n");
    }
  });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(server, parsed.host, parsed.port, "dashboard");
  } catch (error) {
    clearInterval(timer);
    eventLoopDelay.disable();
    unsubscribe();
    throw error;
  }
  let closed = false;
  return {
    url: `${listening.url}/`,
    port: listening.port,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      eventLoopDelay.disable();
      unsubscribe();
      for (const response of streams) response.end();
      streams.clear();
      await listening.close();
      await diskRead;
    },
  };
}
