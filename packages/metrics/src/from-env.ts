/*
 * The LG_METRICS_PORT path, kept apart from the package's main entry so that importing it loads
 * no prom-client: with the flag unset (the default) nothing but this file and the flag schema is
 * ever loaded, and `serveMetricsFromEnv` returns undefined.
 */
import { isEnvironment, parseOptions } from "@leangraph/errors";
import { z } from "zod";
import { metricsFlagsFromEnv } from "./flags.js";
import type { LeangraphSources } from "./sources.js";
import { sourcesShape } from "./sources.js";

export { DEFAULT_METRICS_HOST, type MetricsFlags, metricsFlagsFromEnv } from "./flags.js";

export interface ServeMetricsFromEnvOptions extends LeangraphSources {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface MetricsEndpoint {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  /** Unregisters the metrics (channels, watchdog listeners) and stops the server. */
  close(): Promise<void>;
}

const optionsSchema = z.strictObject({
  ...sourcesShape,
  env: z
    .custom<NodeJS.ProcessEnv>(isEnvironment, {
      message: "an environment object such as process.env (string values)",
    })
    .optional(),
});

/**
 * Serves `/metrics` on LG_METRICS_PORT (and LG_METRICS_HOST, default 127.0.0.1) with a registry
 * of its own holding the runtime and `leangraph_*` metrics of the given sources. Resolves to
 * undefined when LG_METRICS_PORT is unset, having loaded nothing. Invalid flags throw
 * ERR_LG_INVALID_OPTION; a port in use ERR_LG_METRICS_SERVE_FAILED.
 */
export async function serveMetricsFromEnv(
  options: ServeMetricsFromEnvOptions = {},
): Promise<MetricsEndpoint | undefined> {
  const { env, ...sources } = parseOptions(
    optionsSchema,
    options,
    "serveMetricsFromEnv(options)",
  ) as ServeMetricsFromEnvOptions;
  const flags = metricsFlagsFromEnv(env ?? process.env);
  if (flags.port === undefined) return undefined;
  const [{ Registry }, { registerLeangraphMetrics }, { startMetricsServer }] = await Promise.all([
    import("prom-client"),
    import("./prometheus/register-metrics.js"),
    import("./prometheus/metrics-server.js"),
  ]);
  const registry = new Registry();
  const metrics = registerLeangraphMetrics(registry, sources);
  let server: Awaited<ReturnType<typeof startMetricsServer>>;
  try {
    server = await startMetricsServer({ registry, port: flags.port, host: flags.host });
  } catch (error) {
    metrics.unregister();
    throw error;
  }
  return {
    url: `${server.url}/metrics`,
    port: server.port,
    async close() {
      metrics.unregister();
      await server.close();
    },
  };
}
