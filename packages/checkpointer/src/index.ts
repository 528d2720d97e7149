/*
 * The root entry point loads no database driver: import LeanSqliteSaver from
 * "@leangraph/checkpointer/sqlite" and LeanPostgresSaver from "@leangraph/checkpointer/postgres",
 * or let createCheckpointer() load the backend the LG_* flags choose.
 */
export type { CodecOptions, ValueCodecOptions } from "./codec/value-codec.js";
export {
  type CompactedBodies,
  type CompactOptions,
  type CompactReport,
  compact,
} from "./core/compact.js";
export {
  LeanCheckpointSaver,
  type LeanSaverOptions,
  type PruneReport,
  type StorageStats,
} from "./core/lean-saver.js";
export type { GcReport } from "./core/lifecycle/mark-sweep.js";
export type { PruneOptions } from "./core/lifecycle/retention.js";
export type { RetentionOptions, RetentionSweepReport } from "./core/lifecycle/retention-sweeper.js";
export type { GarbageReport, StoredBlob } from "./core/reachability.js";
export { type RekeyOptions, type RekeyReport, rekey } from "./core/rekey.js";
export {
  type CreateCheckpointerOptions,
  createCheckpointer,
  type ManagedCheckpointer,
} from "./create-checkpointer.js";
export {
  CHECKPOINT_PUT_CHANNEL,
  type CheckpointPutEvent,
  checkpointPutChannel,
  RETENTION_SWEEP_CHANNEL,
  type RetentionSweepEvent,
  retentionSweepChannel,
} from "./diagnostics.js";
export { acceptedDuration, parseDurationMs } from "./duration.js";
export { CheckpointerErrorCode } from "./errors.js";
export {
  type CheckpointerFlags,
  checkpointerEnvSchema,
  checkpointerFlagsFromEnv,
  encryptionKeysFromEnv,
} from "./flags.js";
