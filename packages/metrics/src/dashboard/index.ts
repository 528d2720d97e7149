/*
 * "@leangraph/metrics/dashboard": the live page for a running agent. Loads no prom-client.
 */
export type {
  DashboardSnapshot,
  DashboardTick,
  DiskPoint,
  HeapThresholds,
  MemoryPoint,
  StepPoint,
} from "./dashboard-state.js";
export { type Dashboard, type DashboardOptions, startDashboard } from "./start-dashboard.js";
