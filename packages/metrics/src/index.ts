/*
 * The main entry loads prom-client. An agent that only wants LG_METRICS_PORT imports
 * "@leangraph/metrics/from-env" (loads nothing while the flag is unset); the live dashboard is
 * "@leangraph/metrics/dashboard" (no prom-client either).
 */

export {
  type Dashboard,
  type DashboardOptions,
  type DashboardSnapshot,
  startDashboard,
} from "./dashboard/index.js";
export {
  DEFAULT_METRICS_HOST,
  type MetricsEndpoint,
  type MetricsFlags,
  metricsFlagsFromEnv,
  type ServeMetricsFromEnvOptions,
  serveMetricsFromEnv,
} from "./from-env.js";
export type { Listening } from "./http-listen.js";
export {
  type BlobsWrittenEvent,
  type CheckpointPutEvent,
  type LeangraphEventHandlers,
  type RetentionSweepEvent,
  type StepSettledEvent,
  subscribeToLeangraphEvents,
} from "./leangraph-events.js";
export { type MetricsServerOptions, startMetricsServer } from "./prometheus/metrics-server.js";
export {
  type LeangraphMetrics,
  type LeangraphMetricsOptions,
  registerLeangraphMetrics,
} from "./prometheus/register-metrics.js";
export type { LeangraphSources } from "./sources.js";
