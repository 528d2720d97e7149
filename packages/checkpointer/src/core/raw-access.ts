import type { BlobStore, BodyCompression, EncryptionKeySource } from "@leangraph/serde";
import type { RowStore } from "./row-store.js";

/**
 * What the maintenance passes over stored bodies (`rekey`, `compact`) need of a saver: its rows
 * beneath the encryption layer (they rewrite stored forms, not values), its blob store and keys.
 * Not part of the saver's public surface: the saver registers it here, the passes look it up.
 */
export interface RawAccess {
  rawRows: RowStore;
  blobStore: BlobStore;
  encryptionKeys: EncryptionKeySource | undefined;
  /** What the saver compresses value bodies with (undefined: LG_COMPRESSION=off). */
  compression: BodyCompression | undefined;
  setup(): Promise<void>;
}

const accessBySaver = new WeakMap<object, RawAccess>();

/** Called by the lean saver's constructor (the one place that holds the rows unlayered). */
export function registerRawAccess(saver: object, access: RawAccess): void {
  accessBySaver.set(saver, access);
}

/** The saver's raw access, or undefined for anything that is not a lean saver. */
export function rawAccessOf(saver: object): RawAccess | undefined {
  return accessBySaver.get(saver);
}
