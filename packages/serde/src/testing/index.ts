export { type BlobStoreHarness, testBlobStore } from "./blob-store-suite.js";
