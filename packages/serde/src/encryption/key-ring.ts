import { createSecretKey, type KeyObject } from "node:crypto";
import { inspect } from "node:util";
import { LeangraphError, SerdeErrorCode } from "../errors.js";

/** One AES-256 key and the id envelopes name it by. */
export interface EncryptionKey {
  /** Written into every envelope this key seals: letters, digits, `.`, `_`, `-`; at most 64. */
  id: string;
  /** 32 bytes (AES-256). */
  key: Uint8Array;
}

/**
 * Where the keys come from, as `createCheckpointer` and the savers take it (option `encryption`):
 * - the `LG_ENCRYPTION_KEYS` text, `"id2:<base64 32 bytes>,id1:<base64 32 bytes>"`;
 * - a list of keys;
 * - an async provider (a KMS, a secret manager), asked once, at the first read or write;
 * - a KeyRing already built (what the flag parser hands on).
 * The first key encrypts; every listed key decrypts.
 */
export type EncryptionKeySource =
  | string
  | readonly EncryptionKey[]
  | KeyRing
  | (() => Promise<string | readonly EncryptionKey[] | KeyRing>);

const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
export const aesKeyBytes = 32;
const acceptedRing =
  'a comma-separated list of <id>:<base64 of 32 bytes>, newest first, such as "k2:…,k1:…" (ids: letters, digits, ".", "_", "-")';

/**
 * Refused key material. The message names the key id and what is accepted, never the value: a
 * key must not reach a log through an error (nor does `cause` carry it).
 */
function invalidKeys(problem: string): LeangraphError {
  return new LeangraphError(SerdeErrorCode.invalidOption, `Invalid encryption keys: ${problem}.`, {
    hint: "Generate a key with `node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64'))\"`.",
  });
}

/** Parses the `LG_ENCRYPTION_KEYS` text; throws ERR_LG_INVALID_OPTION naming the key id at fault. */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length === 0) throw invalidKeys(`no key given; expected ${acceptedRing}`);
  return entries.map((entry, index) => {
    const colon = entry.indexOf(":");
    if (colon <= 0)
      throw invalidKeys(`entry ${index + 1} has no "<id>:" prefix; expected ${acceptedRing}`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded))
      throw invalidKeys(`key ${describeId(id)} is not base64; expected ${acceptedRing}`);
    return { id, key: Buffer.from(encoded, "base64") };
  });
}

/** An id as it may be shown: a malformed one could be a pasted key, so only its length is told. */
function describeId(id: string): string {
  return keyIdPattern.test(id) ? `"${id}"` : `at position with an invalid id (${id.length} chars)`;
}

/**
 * The keys an encryption layer seals and opens with. Holds them as KeyObjects, so neither
 * `inspect`, `JSON.stringify` nor an error can print their bytes; shows its key ids only.
 */
export class KeyRing {
  readonly #byId: Map<string, KeyObject>;
  /** The key new envelopes are sealed with (the first listed). */
  readonly currentKeyId: string;

  constructor(keys: readonly EncryptionKey[]) {
    if (!Array.isArray(keys) || keys.length === 0)
      throw invalidKeys(`no key given; expected ${acceptedRing}`);
    this.#byId = new Map();
    for (const entry of keys) {
      const id = (entry as EncryptionKey | undefined)?.id;
      const key = (entry as EncryptionKey | undefined)?.key;
      if (typeof id !== "string" || !keyIdPattern.test(id))
        throw invalidKeys(
          `a key id must be 1 to 64 letters, digits, ".", "_" or "-" (got ${typeof id === "string" ? describeId(id) : typeof id})`,
        );
      if (!(key instanceof Uint8Array) || key.byteLength !== aesKeyBytes)
        throw invalidKeys(
          `key "${id}" must be ${aesKeyBytes} bytes (AES-256), got ${key instanceof Uint8Array ? `${key.byteLength} bytes` : typeof key}`,
        );
      if (this.#byId.has(id)) throw invalidKeys(`key id "${id}" is listed twice`);
      this.#byId.set(id, createSecretKey(Buffer.from(key)));
    }
    this.currentKeyId = keys[0]!.id;
  }

  /** The key with this id, or undefined when the ring does not hold it. */
  key(id: string): KeyObject | undefined {
    return this.#byId.get(id);
  }

  get keyIds(): string[] {
    return [...this.#byId.keys()];
  }

  toJSON(): { keyIds: string[] } {
    return { keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `KeyRing { keyIds: ${JSON.stringify(this.keyIds)} }`;
  }
}

function ringOf(keys: string | readonly EncryptionKey[] | KeyRing): KeyRing {
  if (keys instanceof KeyRing) return keys;
  return new KeyRing(typeof keys === "string" ? parseEncryptionKeys(keys) : keys);
}

/**
 * A key ring from any source, resolved once: a list or text at once (so bad keys fail at start),
 * a provider at the first use (its failure is returned again to every later use, not retried
 * silently into a different ring).
 */
export function keyRingResolver(source: EncryptionKeySource): () => Promise<KeyRing> {
  if (!isEncryptionKeySource(source)) {
    // Only the type is told: the value may be key material in a shape we do not take.
    throw invalidKeys(
      `expected ${acceptedRing}, a list of { id, key } or an async function resolving to either; got ${source === null ? "null" : typeof source}`,
    );
  }
  if (source instanceof KeyRing) return () => Promise.resolve(source);
  if (typeof source === "function") {
    let ring: Promise<KeyRing> | undefined;
    return () => {
      ring ??= Promise.resolve()
        .then(() => source())
        .then(ringOf);
      return ring;
    };
  }
  const ring = ringOf(source);
  return () => Promise.resolve(ring);
}

/** Whether a value can be an EncryptionKeySource (its contents are checked by KeyRing). */
export function isEncryptionKeySource(value: unknown): value is EncryptionKeySource {
  return (
    typeof value === "string" ||
    typeof value === "function" ||
    Array.isArray(value) ||
    value instanceof KeyRing
  );
}
