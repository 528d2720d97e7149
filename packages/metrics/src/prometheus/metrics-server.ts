import { createServer } from "node:http";
import { parseOptions } from "@leangraph/errors";
import type { Registry } from "prom-client";
import { z } from "zod";
import { DEFAULT_METRICS_HOST } from "../flags.js";
import { type Listening, listen } from "../http-listen.js";

export interface MetricsServerOptions {
  registry: Registry;
  /** 0 lets the OS pick a free port (read it from the returned `port`). */
  port: number;
  /** @default "127.0.0.1" (LG_METRICS_HOST) */
  host?: string;
}

const optionsSchema = z.strictObject({
  registry: z.custom<Registry>(
    (value) => typeof (value as Registry | null)?.metrics === "function",
    { message: "a prom-client Registry" },
  ),
  port: z
    .number({ message: "a TCP port from 0 to 65535" })
    .int("a TCP port from 0 to 65535")
    .min(0, "a TCP port from 0 to 65535")
    .max(65_535, "a TCP port from 0 to 65535"),
  host: z.string({ message: "a host name or IP address" }).min(1).default(DEFAULT_METRICS_HOST),
});

/**
 * Serves `GET /metrics` from `registry` in the Prometheus text format; every other path is a
 * 404. A collection that fails (a storageStats() read on a closed saver) answers 500 with the
 * reason, and the next scrape tries again.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<Listening> {
  const { registry, port, host } = parseOptions(
    optionsSchema,
    options,
    "startMetricsServer(options)",
  );
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" || path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      response.end("Not found: metrics are at GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { "content-type": registry.contentType });
        response.end(text);
      },
      (error: unknown) => {
        response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        response.end(`collecting metrics failed: ${(error as Error)?.message ?? error}\n`);
      },
    );
  });
  return listen(server, host, port, "/metrics endpoint");
}
