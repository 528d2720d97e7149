/**
 * The one place that defines how a payload points at a blob. Every other module (and the
 * checkpointer package, which scans payloads for the ids it must keep) goes through here.
 *
 * A reference is a JSON **string** that stands where the externalized value stood:
 *
 *     "\uE000lg:ref:<kind>:<sha256 hex>"
 *
 * - `\uE000` is a private-use code point: valid Unicode (PostgreSQL `jsonb` accepts it, unlike
 *   `\u0000`, which the Postgres saver strips from metadata), one UTF-16 unit, and rare in real
 *   text, so the hot path only compares one char code.
 * - The reference is a string rather than an object because it then survives any code that walks
 *   the value without knowing about us, and its length is fixed (the id is always 64 hex chars),
 *   so the payload size can be measured with a placeholder id before any blob is written.
 *
 * Kinds:
 *
 * | kind | blob bytes                                                   | loads as               |
 * |------|--------------------------------------------------------------|------------------------|
 * | `s`  | the string as UTF-8                                          | string                 |
 * | `w`  | the string as UTF-16LE (only strings with lone surrogates, which UTF-8 cannot hold) | string |
 * | `b`  | the raw bytes                                                | Uint8Array             |
 * | `j`  | one JSON document in JsonPlus format (may hold references)   | any value              |
 * | `a`  | a JSON array, written and read element by element            | array                  |
 * | `o`  | a JSON array of `[key, value]` pairs, streamed like `a`      | plain object           |
 * | `c`  | a chunk list: the value as content-defined chunks, each a blob (chunk-manifest.ts) | string or Uint8Array |
 *
 * A user string that happens to start with `\uE000lg:` is written as `"\uE000lg:esc:" + string`,
 * so look-alikes round-trip unchanged and never resolve.
 */
import { isBlobId } from "./blob-store.js";
import { LeangraphError, SerdeErrorCode } from "./errors.js";

export type BlobKind = "s" | "w" | "b" | "j" | "a" | "o" | "c";

/** Any string starting with this is ours: a reference or an escaped user string. */
export const reservedPrefix = "\uE000lg:";
export const reservedPrefixCharCode = 0xe000;
const referencePrefix = `${reservedPrefix}ref:`;
const escapePrefix = `${reservedPrefix}esc:`;
const blobKinds = new Set<string>(["s", "w", "b", "j", "a", "o", "c"]);

/** Same length as a real id, so a payload measured with it has its final size. */
export const placeholderBlobId = "0".repeat(64);

/** Length of a reference once JSON-encoded (quotes included, `\uE000` written raw as 3 bytes). */
export const referenceJsonBytes = Buffer.byteLength(
  JSON.stringify(`${referencePrefix}s:${placeholderBlobId}`),
);

export function isReservedString(value: string): boolean {
  return value.charCodeAt(0) === reservedPrefixCharCode && value.startsWith(reservedPrefix);
}

export function formatReference(kind: BlobKind, id: string): string {
  return `${referencePrefix}${kind}:${id}`;
}

export function escapeReservedString(value: string): string {
  return escapePrefix + value;
}

export type ReservedString =
  | { type: "reference"; kind: BlobKind; id: string }
  | { type: "escaped"; value: string };

/** Decodes a string for which `isReservedString` is true; malformed ones are corrupt payloads. */
export function parseReservedString(value: string): ReservedString {
  if (value.startsWith(escapePrefix)) {
    return { type: "escaped", value: value.slice(escapePrefix.length) };
  }
  if (value.startsWith(referencePrefix)) {
    const kind = value.charAt(referencePrefix.length);
    const id = value.slice(referencePrefix.length + 2);
    if (blobKinds.has(kind) && value.charAt(referencePrefix.length + 1) === ":" && isBlobId(id)) {
      return { type: "reference", kind: kind as BlobKind, id };
    }
  }
  throw new LeangraphError(
    SerdeErrorCode.payloadCorrupt,
    `Malformed blob reference ${JSON.stringify(value.slice(0, 120))} in a stored payload.`,
    { hint: "The checkpoint row was edited or truncated; restore it or delete the checkpoint." },
  );
}

/** Kinds whose blob is JSON that may hold further references. */
export function isContainerKind(kind: BlobKind): boolean {
  return kind === "j" || kind === "a" || kind === "o";
}

const referencePrefixBytes = Buffer.from(referencePrefix, "utf8");
const blobKindBytes = new Set([...blobKinds].map((kind) => kind.charCodeAt(0)));
const colonByte = ":".charCodeAt(0);
const blobIdChars = 64;

/**
 * UTF-8 length of a whole reference. A scanner reading a stream in chunks keeps the last
 * `maxReferenceBytes - 1` bytes of a chunk in front of the next one, so a reference cut by a
 * chunk boundary is still seen whole.
 */
export const maxReferenceBytes = referencePrefixBytes.byteLength + 2 + blobIdChars;

/**
 * References in UTF-8 bytes, found without decoding them (payload rows, blob chunks). Structural
 * bytes are ASCII and never occur inside a multi-byte sequence, so a byte search is exact. May
 * over-report (a user string that merely contains reference text), never under-report.
 */
export function referencesInBytes(bytes: Uint8Array): { kind: BlobKind; id: string }[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: { kind: BlobKind; id: string }[] = [];
  for (let at = buffer.indexOf(referencePrefixBytes); at !== -1; ) {
    const kindAt = at + referencePrefixBytes.byteLength;
    if (
      kindAt + 2 + blobIdChars <= buffer.byteLength &&
      blobKindBytes.has(buffer[kindAt]!) &&
      buffer[kindAt + 1] === colonByte
    ) {
      const id = buffer.toString("latin1", kindAt + 2, kindAt + 2 + blobIdChars);
      if (isBlobId(id)) found.push({ kind: String.fromCharCode(buffer[kindAt]!) as BlobKind, id });
    }
    at = buffer.indexOf(referencePrefixBytes, at + 1);
  }
  return found;
}
