import {
  createHash,
  createHmac,
  createSecretKey,
  type Hash,
  type Hmac,
  hkdfSync,
  type KeyObject,
} from "node:crypto";
import { type BlobId, sha256Hex } from "./blob-store.js";
import type { KeyRing } from "./encryption/key-ring.js";

/** Hashes a body as it streams in; `digestHex` once, at the end. */
export interface ContentIdHasher {
  update(chunk: Uint8Array): void;
  digestHex(): BlobId;
}

/**
 * How stored bodies (blob-store blobs, database items) are named: 64 lowercase hex characters
 * either way, so ids keep one format (assertBlobId, the schemas, the 32-byte ids in tree nodes
 * and chunk manifests).
 * - sha256 of the plain bytes: without encryption, and what every store names by unless it says
 *   otherwise (`BlobStore.contentIds`);
 * - HMAC-SHA256 under a key derived from the encryption ring's current key: with encryption on,
 *   so someone holding the database cannot test whether it holds a known text by hashing it.
 *
 * A keyed id is not re-computed on read: a body stored under encryption is proven by its GCM tag,
 * whose associated data binds the body's kind and id (see encryption/body-encryption.ts). That is
 * also why ids written under an older key stay valid after a rotation (README, Encryption).
 */
export interface ContentIds {
  /** True for keyed ids (HMAC-SHA256), false for the sha256 of the bytes. */
  readonly keyed: boolean;
  of(bytes: Uint8Array): BlobId;
  hasher(): ContentIdHasher;
}

function hasherOver(hash: Hash | Hmac): ContentIdHasher {
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    digestHex: () => hash.digest("hex"),
  };
}

/** Ids as the sha256 hex of the plain bytes: what every store without encryption uses. */
export const sha256ContentIds: ContentIds = Object.freeze({
  keyed: false,
  of: sha256Hex,
  hasher: () => hasherOver(createHash("sha256")),
});

/**
 * HKDF's `info`: a key derived for ids is never the key that seals, and a later id scheme (v2)
 * gets a key of its own.
 */
const idKeyInfo = "leangraph content id v1";

const keyedByRing = new WeakMap<KeyRing, ContentIds>();

/**
 * Keyed ids under `ring`'s current key: HMAC-SHA256 whose key is derived with HKDF-SHA256 from
 * it. The derived key stays a KeyObject inside this closure: neither it nor the ring's key bytes
 * reach a log, an error or `inspect`. Rings that share a current key name bodies alike.
 */
export function keyedContentIds(ring: KeyRing): ContentIds {
  let ids = keyedByRing.get(ring);
  if (ids === undefined) {
    const idKey = deriveIdKey(ring.key(ring.currentKeyId)!);
    ids = Object.freeze({
      keyed: true,
      of: (bytes: Uint8Array) => createHmac("sha256", idKey).update(bytes).digest("hex"),
      hasher: () => hasherOver(createHmac("sha256", idKey)),
    });
    keyedByRing.set(ring, ids);
  }
  return ids;
}

function deriveIdKey(key: KeyObject): KeyObject {
  const derived = hkdfSync("sha256", key, Buffer.alloc(0), idKeyInfo, 32);
  return createSecretKey(Buffer.from(derived));
}

/** What names bodies in a store: its own answer (`BlobStore.contentIds`), else sha256. */
export async function contentIdsOf(store: {
  contentIds?: () => Promise<ContentIds>;
}): Promise<ContentIds> {
  return store.contentIds === undefined ? sha256ContentIds : store.contentIds();
}

/** Whether two namings agree (the same scheme under the same key): one probe decides it. */
export function sameContentIds(a: ContentIds, b: ContentIds): boolean {
  if (a === b) return true;
  const probe = Buffer.from("leangraph content id probe", "utf8");
  return a.keyed === b.keyed && a.of(probe) === b.of(probe);
}
