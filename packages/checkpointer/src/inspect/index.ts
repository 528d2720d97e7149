export { type StoredCheckpoint, storedCheckpoints } from "./checkpoint-inventory.js";
export { checkReferences, type DamagedReference, type ReferenceCheck } from "./reference-check.js";
export { storedThreadIds } from "./saver-rows.js";
export {
  type ChannelStorage,
  type OrphanBlob,
  type StorageBreakdown,
  type StorageBreakdownOptions,
  storageBreakdown,
  type ThreadStorage,
} from "./storage-breakdown.js";
