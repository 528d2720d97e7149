export { createEncryptionLayer, encryptionLayers } from "./body-encryption.js";
export { isSealed, openEnvelope, type SealPlace, sealEnvelope, sealedKeyId } from "./envelope.js";
export {
  type EncryptionKey,
  type EncryptionKeySource,
  isEncryptionKeySource,
  KeyRing,
  keyRingResolver,
  parseEncryptionKeys,
} from "./key-ring.js";
