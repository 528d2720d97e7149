/*
 * `@leangraph/serde/internal`: what sibling leangraph packages need from the serializer's
 * reference format (the checkpointer records which blobs a payload references, and its garbage
 * collector follows them). Not part of the public API: it may change in any release.
 */
export {
  type BlobKind,
  formatReference,
  isContainerKind,
  isReservedString,
  maxReferenceBytes,
  parseReservedString,
  referencesInBytes,
  reservedPrefix,
} from "./reference-format.js";
export { scanBlob } from "./referenced-blobs.js";
