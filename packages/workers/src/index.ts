export {
  DEFAULT_HEAP_THRESHOLD,
  DEFAULT_MEM_LOG_INTERVAL_S,
  DEFAULT_SNAPSHOT_DIR,
  DEFAULT_STEP_MAX_OUTPUT_MB,
  DEFAULT_STEP_QUEUE_NAME,
  DEFAULT_STEP_TIMEOUT_MS,
  DEFAULT_WORKER_HEAP_MB,
  defaultWorkerThreads,
  parseWorkersEnv,
  type StepPoolEnvOptions,
  stepPoolOptionsFromEnv,
  type WatchdogEnvOptions,
  type WorkersEnv,
  watchdogOptionsFromEnv,
  workersEnvSchema,
} from "./config.js";
export {
  defineStep,
  type StepContent,
  type StepContext,
  type StepDefinition,
  type StepFunction,
} from "./define-step.js";
export {
  ISOLATE_BOOTED_CHANNEL,
  type IsolateBootedEvent,
  isolateBootedChannel,
  STEP_SETTLED_CHANNEL,
  type StepSettledEvent,
  stepSettledChannel,
} from "./diagnostics.js";
export {
  type ErrorData,
  LeangraphError,
  StepError,
  type StepErrorCode,
  WorkersErrorCode,
} from "./errors.js";
export { splitNodeOptions } from "./node-options.js";
export {
  type QueueWorker,
  type QueueWorkerOptions,
  type QueueWorkerStats,
  startQueueWorker,
} from "./queue/queue-worker.js";
export {
  isSharedBlobStore,
  type SharedBlobStore,
  sharedBlobStoreFromEnv,
} from "./queue/shared-blob-store.js";
export { runWorkerCommand, workerUsage } from "./queue/worker-command.js";
export {
  createStepPool,
  type StepPool,
  type StepPoolMode,
  type StepPoolOptions,
  type StepPoolStats,
  type StepQueueOptions,
  type StepRunResult,
} from "./step-pool.js";
export { DEFAULT_RETRYABLE_CODES, type RetryPolicy, type StepRequest } from "./step-request.js";
export type { StepResult } from "./step-runner.js";
export {
  type HeapLimit,
  type HeapLimitInputs,
  type HeapLimitSource,
  oldGenerationLimit,
  readHeapLimit,
} from "./watchdog/heap-limit.js";
export type { SnapshotOutcome, SnapshotReason, SnapshotSkip } from "./watchdog/heap-snapshots.js";
export {
  formatMemoryLine,
  type GcReport,
  type LeakWarning,
  type MemoryPeaks,
  type MemorySample,
  type MemoryWatchdog,
  type MemoryWatchdogOptions,
  startMemoryWatchdog,
} from "./watchdog/memory-watchdog.js";
export * from "./watchdog/pressure-level.js";
export { snapshotDirNodeFlags } from "./watchdog/snapshot-dir-flags.js";
