export { type BlobStoreHarness, testBlobStore } from "./blob-store-suite.js";
export {
  type BlobOperation,
  blobReadOperations,
  blobWriteOperations,
  createFaultyBlobStore,
  type FaultPlan,
  type FaultyBlobStore,
} from "./faulty-blob-store.js";
