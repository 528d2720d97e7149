export * from "./blob-store.js";
export type { BodyLayer, BodyPlace } from "./body/body-layer.js";
export * from "./diagnostics.js";
export * from "./encryption/index.js";
export * from "./errors.js";
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
