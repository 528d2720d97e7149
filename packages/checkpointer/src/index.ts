export type { ItemKind, ValueCodecOptions, ValueRef } from "./codec/value-codec.js";
export {
  LeanCheckpointSaver,
  type LeanSaverOptions,
  type StorageStats,
} from "./core/lean-saver.js";
export type { GcReport } from "./core/mark-sweep.js";
export { CheckpointerErrorCode } from "./errors.js";
export { defaultBlobDirFor, LeanSqliteSaver, type LeanSqliteSaverOptions } from "./sqlite/saver.js";
