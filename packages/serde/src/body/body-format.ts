import { pipeline, Readable } from "node:stream";
import { LeangraphError, SerdeErrorCode } from "../errors.js";
import { type BodyCodec, codecForReading, codecIds } from "./codecs.js";

/**
 * The stored form of a body (a blob or a database item): either the plain bytes unchanged, or
 *
 *     0x89 'L' 'G' 'B'   magic (0x89 never starts UTF-8 text, so no JSON or source file does)
 *     version            1
 *     codec              0 none, 1 gzip, 2 brotli, 3 zstd (see codecs.ts)
 *     payload            the codec's output (a complete gzip, brotli or zstd frame)
 *
 * The header is what lets every runtime read what another wrote, whatever its own setting.
 * Bodies without it (everything written before compression existed, and bodies that did not
 * shrink) are plain. A plain body that happens to begin with the magic is stored with codec 0, so
 * it is never misread; an old body that begins with it is told apart by its content id (see
 * plainIfItMatches).
 */
const magic = [0x89, 0x4c, 0x47, 0x42] as const;
const formatVersion = 1;
export const bodyHeaderBytes = magic.length + 2;

/** Bodies under this size are stored plain: their header and codec framing would eat the gain. */
export const minCompressedBodyBytes = 128;

export interface BodyCompression {
  codec: BodyCodec;
  level: number;
  /**
   * The level for bodies a saver keeps in database rows (values and tree leaves, all under the
   * blob threshold): the codec's `rowDefault` unless a level was asked for, then that level.
   */
  rowLevel: number;
  /** The level for tree leaves: the codec's fastest useful one, whatever was asked (codecs.ts). */
  leafLevel: number;
}

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.byteLength >= bodyHeaderBytes && magic.every((byte, index) => bytes[index] === byte);
}

function header(codecId: number): Uint8Array {
  return Uint8Array.of(...magic, formatVersion, codecId);
}

function withHeader(codecId: number, payload: Uint8Array): Uint8Array {
  const stored = new Uint8Array(bodyHeaderBytes + payload.byteLength);
  stored.set(magic);
  stored[magic.length] = formatVersion;
  stored[magic.length + 1] = codecId;
  stored.set(payload, bodyHeaderBytes);
  return stored;
}

/** The stored form of `plain`: compressed when that makes it smaller, else plain. */
export function encodeBody(
  plain: Uint8Array,
  compression: BodyCompression | undefined,
): Uint8Array {
  if (compression !== undefined && plain.byteLength >= minCompressedBodyBytes) {
    const packed = compression.codec.compress(plain, compression.level);
    if (bodyHeaderBytes + packed.byteLength < plain.byteLength)
      return withHeader(compression.codec.id, packed);
  }
  return startsWithMagic(plain) ? withHeader(codecIds.none, plain) : plain;
}

/** Bodies at least this big are (de)compressed on the thread pool when the caller can wait. */
const threadPoolMinBytes = 32 * 1024;

/** encodeBody for callers that can wait: a big body compresses off the event loop. */
export async function encodeBodyAsync(
  plain: Uint8Array,
  compression: BodyCompression | undefined,
): Promise<Uint8Array> {
  if (compression === undefined || plain.byteLength < threadPoolMinBytes)
    return encodeBody(plain, compression);
  const packed = await compression.codec.compressAsync(plain, compression.level);
  if (bodyHeaderBytes + packed.byteLength < plain.byteLength)
    return withHeader(compression.codec.id, packed);
  return startsWithMagic(plain) ? withHeader(codecIds.none, plain) : plain;
}

/** decodeBody for callers that can wait: big bodies read in parallel decompress in parallel. */
export async function decodeBodyAsync(stored: Uint8Array, where: string): Promise<Uint8Array> {
  if (!startsWithMagic(stored) || stored.byteLength < threadPoolMinBytes / 4)
    return decodeBody(stored, where);
  const codec = codecOfHeader(stored, where);
  const payload = stored.subarray(bodyHeaderBytes);
  return codec === undefined ? payload : codec.decompressAsync(payload);
}

/** What a stored body's header says, without decompressing it (inspect's "stored as"). */
export function storedBodyCodec(stored: Uint8Array): string {
  if (!startsWithMagic(stored)) return "none";
  const name = Object.entries(codecIds).find(([, id]) => id === stored[magic.length + 1])?.[0];
  return name ?? `#${stored[magic.length + 1]}`;
}

function codecOfHeader(stored: Uint8Array, where: string): BodyCodec | undefined {
  const version = stored[magic.length]!;
  if (version !== formatVersion) {
    throw new LeangraphError(
      SerdeErrorCode.bodyFormatUnknown,
      `${where} has body format version ${version}; this version of leangraph reads version ${formatVersion}.`,
      { hint: "It was written by a newer leangraph; upgrade this process to read it." },
    );
  }
  const codecId = stored[magic.length + 1]!;
  return codecId === codecIds.none ? undefined : codecForReading(codecId, where);
}

/**
 * The plain bytes of a stored body. Throws the codec's own error for a damaged payload (callers
 * turn it into their corrupt error) and coded errors for a codec this runtime lacks.
 */
export function decodeBody(stored: Uint8Array, where: string): Uint8Array {
  if (!startsWithMagic(stored)) return stored;
  const codec = codecOfHeader(stored, where);
  const payload = stored.subarray(bodyHeaderBytes);
  return codec === undefined ? payload : codec.decompress(payload);
}

/**
 * The plain bytes of a stored body when they hash to `id`, else undefined (damage). Also accepts
 * a body stored before headers existed that happens to start with the magic: its own bytes are
 * then what hash to the id. Codec-unavailable and unknown-format errors pass through.
 */
export function plainIfItMatches(
  stored: Uint8Array,
  id: string,
  where: string,
  hash: (bytes: Uint8Array) => string,
): Uint8Array | undefined {
  let plain: Uint8Array | undefined;
  try {
    plain = decodeBody(stored, where);
  } catch (error) {
    if (error instanceof LeangraphError) throw error;
  }
  if (plain !== undefined && hash(plain) === id) return plain;
  if (plain !== stored && hash(stored) === id) return stored;
  return undefined;
}

/** A stream's stored form: the header, then one compressed frame (a stream is never left plain). */
export async function* encodeBodyStream(
  source: AsyncIterable<Uint8Array>,
  compression: BodyCompression,
): AsyncIterable<Uint8Array> {
  yield header(compression.codec.id);
  yield* through(source, compression.codec.compressStream(compression.level));
}

/** A stored stream's plain bytes, decompressed as they arrive (never the whole body at once). */
export async function* decodeBodyStream(
  stored: AsyncIterable<Uint8Array>,
  where: string,
): AsyncIterable<Uint8Array> {
  const iterator = stored[Symbol.asyncIterator]();
  let head = new Uint8Array(0);
  while (head.byteLength < bodyHeaderBytes) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const rest = async function* () {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };
  if (!startsWithMagic(head)) {
    if (head.byteLength > 0) yield head;
    yield* rest();
    return;
  }
  const codec = codecOfHeader(head, where);
  const payload = async function* () {
    yield head.subarray(bodyHeaderBytes);
    yield* rest();
  };
  if (codec === undefined) yield* payload();
  else yield* through(payload(), codec.decompressStream());
}

async function* through(
  source: AsyncIterable<Uint8Array>,
  transform: NodeJS.ReadWriteStream & AsyncIterable<Buffer>,
): AsyncIterable<Uint8Array> {
  let failure: Error | undefined;
  pipeline(Readable.from(source), transform, (error) => {
    if (error) failure = error;
  });
  for await (const chunk of transform) yield chunk;
  if (failure) throw failure;
}
