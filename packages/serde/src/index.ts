export * from "./blob-store.js";
export {
  type BodyCompression,
  bodyHeaderBytes,
  decodeBody,
  encodeBody,
  minCompressedBodyBytes,
  plainIfItMatches,
  storedBodyCodec,
} from "./body/body-format.js";
export type { BodyLayer, BodyPlace } from "./body/body-layer.js";
export { type CodecName, runtimeHasZstd } from "./body/codecs.js";
export {
  type CompressionOptions,
  type CompressionSetting,
  codecNameOf,
  compressionOption,
  compressionSettings,
  createCompressionLayer,
  resolveCompression,
  type StreamingBodyLayer,
} from "./body/compression.js";
export { isBodyLayer } from "./body/layer-options.js";
export {
  isLayeredBlobStore,
  type LayeredBlobStore,
  layeredBlobStore,
} from "./body/layered-blob-store.js";
export {
  type ContentIdHasher,
  type ContentIds,
  contentIdsOf,
  keyedContentIds,
  sameContentIds,
  sha256ContentIds,
} from "./content-ids.js";
export * from "./diagnostics.js";
export * from "./encryption/index.js";
export * from "./errors.js";
export { textLoadsAsItself } from "./fast-load/text-payload.js";
export { type CreateSerializerFromEnvOptions, createSerializerFromEnv } from "./from-env.js";
export { LruMap, type LruMapOptions } from "./lru-map.js";
export {
  isSerializerProtocol,
  parseByteSize,
  type RedactingSerializerLimits,
  type SerdeEnvOptions,
  serdeEnvSchema,
  serdeOptionsFromEnv,
} from "./options.js";
export { blobClosureOf, type PreparedPayload } from "./redacting/prepared-payload.js";
export { type PathStep, UnserializableError } from "./redacting/unserializable.js";
export { RedactingSerializer, type RedactingSerializerOptions } from "./redacting-serializer.js";
export { isStagedSerializer, type StagedSerializer } from "./staged-serializer.js";
export * from "./stores/fs.js";
export * from "./stores/memory.js";
