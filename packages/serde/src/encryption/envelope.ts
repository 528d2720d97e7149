import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { LeangraphError, SerdeErrorCode } from "../errors.js";
import type { KeyRing } from "./key-ring.js";

/**
 * The encryption envelope, written and read here only:
 *
 *     "LGE" | version (1) | key id length (1) | key id (ASCII) | nonce (12) | ciphertext | tag (16)
 *
 * AES-256-GCM with a random 96-bit nonce per envelope (a key seals far fewer than the 2^32
 * messages NIST allows for random nonces before rotation is due). The associated data is the
 * header followed by the place the bytes belong to, so a changed key id, a body moved to another
 * content id or a row moved to another thread or checkpoint fails the tag check: the envelope
 * proves what it is *and* where it was written.
 */
const magic = Buffer.from("LGE", "latin1");
const formatVersion = 1;
const nonceBytes = 12;
const tagBytes = 16;

/**
 * Nonces come from a pool the CSPRNG refills 1,024 nonces at a time: `randomBytes(12)` costs
 * ~5-8 µs a call here, a third of a whole seal, and a put seals about ten payloads. Each slice is
 * handed out once and used at once (sealing is synchronous), so no nonce is ever given twice.
 */
const noncePool = Buffer.alloc(nonceBytes * 1024);
let noncePoolOffset = noncePool.byteLength;

function freshNonce(): Buffer {
  if (noncePoolOffset === noncePool.byteLength) {
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.subarray(noncePoolOffset, noncePoolOffset + nonceBytes);
  noncePoolOffset += nonceBytes;
  return nonce;
}

/**
 * Where sealed bytes belong: `bound` goes into the associated data (it must be rebuilt exactly
 * on read), `where` names the place in errors (never the bytes).
 */
export interface SealPlace {
  bound: readonly (string | number)[];
  where: string;
}

interface Header {
  keyId: string;
  nonce: Buffer;
  /** Byte length of the header (where the ciphertext starts). */
  length: number;
}

function readHeader(stored: Uint8Array): Header | undefined {
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (bytes.byteLength < magic.byteLength + 2 || !bytes.subarray(0, 3).equals(magic))
    return undefined;
  if (bytes[3] !== formatVersion) return undefined;
  const idLength = bytes[4]!;
  const length = 5 + idLength + nonceBytes;
  if (idLength === 0 || bytes.byteLength < length + tagBytes) return undefined;
  const keyId = bytes.toString("latin1", 5, 5 + idLength);
  if (!/^[A-Za-z0-9._-]+$/.test(keyId)) return undefined;
  return { keyId, nonce: bytes.subarray(5 + idLength, length), length };
}

/** Whether bytes start with a well-formed envelope header (what `rekey` tells plaintext by). */
export function isSealed(stored: Uint8Array): boolean {
  return readHeader(stored) !== undefined;
}

/** The key id an envelope was sealed with, or undefined for bytes that are not an envelope. */
export function sealedKeyId(stored: Uint8Array): string | undefined {
  return readHeader(stored)?.keyId;
}

function associatedData(header: Uint8Array, place: SealPlace): Buffer {
  return Buffer.concat([header, Buffer.from(JSON.stringify(place.bound), "utf8")]);
}

/** Encrypts under the ring's current key, bound to `place`. */
export function sealEnvelope(ring: KeyRing, plain: Uint8Array, place: SealPlace): Buffer {
  const keyId = ring.currentKeyId;
  const nonce = freshNonce();
  const header = Buffer.concat([
    magic,
    Buffer.from([formatVersion, keyId.length]),
    Buffer.from(keyId, "latin1"),
    nonce,
  ]);
  const cipher = createCipheriv("aes-256-gcm", ring.key(keyId)!, nonce);
  cipher.setAAD(associatedData(header, place));
  const body = cipher.update(plain);
  const final = cipher.final();
  return Buffer.concat([header, body, final, cipher.getAuthTag()]);
}

/**
 * Decrypts what `sealEnvelope` wrote for this very place, or throws: ERR_LG_ENCRYPTION_NOT_ENCRYPTED for
 * bytes without an envelope (never read as plaintext), ERR_LG_ENCRYPTION_KEY_MISSING naming a key
 * id the ring lacks, ERR_LG_ENCRYPTION_DECRYPT_FAILED when the tag does not verify.
 */
export function openEnvelope(ring: KeyRing, stored: Uint8Array, place: SealPlace): Buffer {
  const header = readHeader(stored);
  if (header === undefined) {
    throw new LeangraphError(
      SerdeErrorCode.notEncrypted,
      `Refused ${place.where}: encryption is on but it holds no encryption envelope (plaintext written before encryption was turned on, or planted).`,
      {
        hint: "A database written without encryption moves to it with `leangraph rekey`; bytes written by hand are never accepted.",
      },
    );
  }
  const key = ring.key(header.keyId);
  if (key === undefined) {
    throw new LeangraphError(
      SerdeErrorCode.encryptionKeyMissing,
      `Cannot decrypt ${place.where}: it was encrypted with key "${header.keyId}", which the key ring (${ring.keyIds.map((id) => `"${id}"`).join(", ")}) does not hold.`,
      {
        hint: `Add key "${header.keyId}" back to LG_ENCRYPTION_KEYS (after the current key) until \`leangraph rekey\` has re-encrypted everything.`,
      },
    );
  }
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const tagStart = bytes.byteLength - tagBytes;
  const decipher = createDecipheriv("aes-256-gcm", key, header.nonce);
  decipher.setAAD(associatedData(bytes.subarray(0, header.length), place));
  decipher.setAuthTag(bytes.subarray(tagStart));
  const body = decipher.update(bytes.subarray(header.length, tagStart));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch (error) {
    throw new LeangraphError(
      SerdeErrorCode.decryptionFailed,
      `Cannot decrypt ${place.where} with key "${header.keyId}": the authentication check failed (the bytes were changed, moved here from another place, or key "${header.keyId}" has the wrong bytes).`,
      { cause: error },
    );
  }
}
