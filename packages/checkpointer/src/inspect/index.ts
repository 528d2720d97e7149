/**
 * Read-only accounting of a lean store for the `leangraph` CLI (@leangraph/cli), published as
 * `@leangraph/checkpointer/internal/inspect`: internal, so its shape may change in any release.
 */
export { type StoredCheckpoint, storedCheckpoints } from "./checkpoint-inventory.js";
export { type DiskUsage, diskUsage } from "./disk-usage.js";
export { checkReferences, type DamagedReference, type ReferenceCheck } from "./reference-check.js";
export { type RetainedHistoryPlace, retainedHistoryPlaces } from "./retained-history.js";
export { storedThreadIds } from "./saver-rows.js";
export {
  type ChannelStorage,
  type OrphanBlob,
  type StorageBreakdown,
  type StorageBreakdownOptions,
  storageBreakdown,
  type ThreadStorage,
} from "./storage-breakdown.js";
