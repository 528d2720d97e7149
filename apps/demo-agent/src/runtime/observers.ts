import { startDashboard } from "@leangraph/metrics/dashboard";
import { serveMetricsFromEnv } from "@leangraph/metrics/from-env";
import type { RunParts } from "../run/run-agent.js";

/**
 * The one place the demo touches @leangraph/metrics: the live dashboard (`--dashboard`) and the
 * /metrics endpoint (`LG_METRICS_PORT`). Importing "@leangraph/metrics/from-env" loads no
 * prom-client; it is imported only when LG_METRICS_PORT is set.
 */
export interface RunObservers {
  dashboardUrl: string | undefined;
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

export async function startRunObservers(options: {
  env: NodeJS.ProcessEnv;
  parts: RunParts;
  /** `--dashboard [PORT]`; undefined for no dashboard. */
  dashboardPort: number | undefined;
  title: string;
}): Promise<RunObservers> {
  const sources = {
    watchdog: options.parts.watchdog,
    stepPool: options.parts.stepPool,
    checkpointer: options.parts.checkpointer,
  };
  const metrics = await serveMetricsFromEnv({ env: options.env, ...sources });
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | undefined;
  try {
    if (options.dashboardPort !== undefined) {
      dashboard = await startDashboard({
        ...sources,
        port: options.dashboardPort,
        title: options.title,
      });
    }
  } catch (error) {
    await metrics?.close();
    throw error;
  }
  return {
    dashboardUrl: dashboard?.url,
    metricsUrl: metrics?.url,
    async close() {
      await dashboard?.close();
      await metrics?.close();
    },
  };
}
