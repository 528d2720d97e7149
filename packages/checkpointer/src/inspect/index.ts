/**
 * `@leangraph/checkpointer/inspect`: read-only accounting of a lean store, the supported API the
 * `leangraph` CLI (@leangraph/cli) is built on (README "Inspecting a store"). Every function
 * takes a LeanCheckpointSaver and only reads; liveness (what gc would delete) is the saver's
 * `garbage()`, which these reports use for their orphans.
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
