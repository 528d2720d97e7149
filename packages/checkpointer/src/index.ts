export type { ItemKind, ValueCodecOptions, ValueRef } from "./codec/value-codec.js";
export {
  LeanCheckpointSaver,
  type LeanSaverOptions,
  type StorageStats,
} from "./core/lean-saver.js";
export type { GcReport } from "./core/mark-sweep.js";
export {
  type CreateCheckpointerOptions,
  createCheckpointer,
  type ManagedCheckpointer,
} from "./create-checkpointer.js";
export { type DiskUsage, diskUsage } from "./disk-usage.js";
export { CheckpointerErrorCode } from "./errors.js";
export {
  type CheckpointerFlags,
  checkpointerEnvSchema,
  checkpointerFlagsFromEnv,
} from "./flags.js";
export * from "./inspect/index.js";
export { measureStorage } from "./measure-storage.js";
export { LeanPostgresSaver, type LeanPostgresSaverOptions } from "./postgres/saver.js";
export { defaultBlobDirFor, LeanSqliteSaver, type LeanSqliteSaverOptions } from "./sqlite/saver.js";
export { MeasuredMemorySaver, MeasuredPostgresSaver, MeasuredSqliteSaver } from "./stock-savers.js";
export {
  createPostgresBlobStore,
  type PostgresBlobStoreOptions,
} from "./stores/postgres-blob-store.js";
