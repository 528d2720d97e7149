import type { Transform } from "node:stream";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { LeangraphError, SerdeErrorCode } from "../errors.js";

/** The compressors a body header can name. The number is stored in every header: never reuse one. */
export const codecIds = { none: 0, gzip: 1, brotli: 2, zstd: 3 } as const;
export type CodecName = keyof typeof codecIds;
export type CompressingCodecName = Exclude<CodecName, "none">;

export interface BodyCodec {
  readonly name: CompressingCodecName;
  readonly id: number;
  /**
   * Levels this codec accepts, and the ones it uses when LG_COMPRESSION_LEVEL is unset: `default`
   * for blobs, `rowDefault` for the small bodies kept in database rows (see BodyCompression).
   * `leaf` is what tree leaves always use: one is compressed inside nearly every put.
   */
  readonly levels: {
    min: number;
    max: number;
    default: number;
    rowDefault: number;
    leaf: number;
  };
  compress(plain: Uint8Array, level: number): Uint8Array;
  decompress(stored: Uint8Array): Uint8Array;
  /** The same on libuv's thread pool: big bodies read in parallel decompress in parallel. */
  compressAsync(plain: Uint8Array, level: number): Promise<Uint8Array>;
  decompressAsync(stored: Uint8Array): Promise<Uint8Array>;
  compressStream(level: number): Transform;
  decompressStream(): Transform;
}

// zstd reached node:zlib in 22.15 / 23.8 (still experimental there); Node 20 has none, so every
// call goes through these lookups instead of naming zlib.zstd* directly.
type Callback = (error: Error | null, result: Buffer) => void;
interface ZlibWithZstd {
  zstdCompressSync?: (buffer: Uint8Array, options: object) => Buffer;
  zstdDecompressSync?: (buffer: Uint8Array) => Buffer;
  zstdCompress?: (buffer: Uint8Array, options: object, callback: Callback) => void;
  zstdDecompress?: (buffer: Uint8Array, options: object, callback: Callback) => void;
  createZstdCompress?: (options: object) => Transform;
  createZstdDecompress?: () => Transform;
  constants: Record<string, number>;
}
const zstdZlib = zlib as unknown as ZlibWithZstd;

/** True when this runtime's node:zlib can read and write zstd. */
export const runtimeHasZstd =
  typeof zstdZlib.zstdCompressSync === "function" &&
  typeof zstdZlib.createZstdDecompress === "function";

function brotliParams(level: number, sizeHint?: number, chunkSize?: number) {
  return {
    ...(chunkSize === undefined ? {} : { chunkSize }),
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: level,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      ...(sizeHint === undefined ? {} : { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: sizeHint }),
    },
  };
}

/**
 * The output buffer size of one thread-pool (de)compression. node:zlib's default (16 KiB) makes a
 * 200 KB body come back in 13 pieces, each a round trip between the thread pool and the main
 * thread plus a copy: on the append workload that cost more main-thread time than the
 * decompression itself. One buffer about the output's size makes it one round trip: a compressed
 * body is at most its plain size (plus framing), a decompressed one a few times its stored size
 * (hex text: 2x, source: 4-6x; more just takes another round).
 */
const minChunkBytes = 64 * 1024;
const maxChunkBytes = 8 * 1024 * 1024;
function chunkBytes(expectedOutputBytes: number): number {
  return Math.min(maxChunkBytes, Math.max(minChunkBytes, Math.ceil(expectedOutputBytes)));
}
const compressedChunk = (plain: Uint8Array) => chunkBytes(plain.byteLength + 1024);
const decompressedChunk = (stored: Uint8Array) => chunkBytes(stored.byteLength * 4);

/**
 * The options of one synchronous brotli call, built once per level. A row body or tree leaf is
 * compressed in nearly every put, and inside one the call's fixed cost (a node:zlib stream object
 * and a native encoder per call) outweighs compressing a 0.5-4 KB body; building the params
 * object anew each time (computed numeric keys) was a tenth of that cost in a CPU profile of chat
 * puts. No size hint: given the whole input in one call, as a sync call is, brotli derives it
 * from the input (same output bytes, checked on 0.2-200 KB bodies at qualities 1, 4 and 5).
 */
const brotliSyncOptions = new Map<number, ReturnType<typeof brotliParams>>();
function brotliSyncOptionsAt(level: number) {
  let options = brotliSyncOptions.get(level);
  if (options === undefined) {
    options = brotliParams(level);
    brotliSyncOptions.set(level, options);
  }
  return options;
}

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);
const brotliAsync = promisify(zlib.brotliCompress);
const unbrotliAsync = promisify(zlib.brotliDecompress);

const gzip: BodyCodec = {
  name: "gzip",
  id: codecIds.gzip,
  levels: { min: 1, max: 9, default: 6, rowDefault: 6, leaf: 1 },
  compress: (plain, level) => zlib.gzipSync(plain, { level }),
  decompress: (stored) => zlib.gunzipSync(stored),
  compressAsync: (plain, level) => gzipAsync(plain, { level, chunkSize: compressedChunk(plain) }),
  decompressAsync: (stored) => gunzipAsync(stored, { chunkSize: decompressedChunk(stored) }),
  compressStream: (level) => zlib.createGzip({ level }),
  decompressStream: () => zlib.createGunzip(),
};

const brotli: BodyCodec = {
  name: "brotli",
  id: codecIds.brotli,
  // Quality 4: on source text 0.27 of the raw bytes (gzip -6: 0.26, quality 5: 0.25), and on
  // high-entropy text (hex) 3-4x faster to write than quality 5 and faster to read (README,
  // Compression); 6+ costs several times the CPU for a few percent. Bodies kept in rows are under
  // 64 KiB (blobMinBytes): there quality 5 costs 1.2-1.5x the time of 4 (13 KB source bodies:
  // about 0.3 ms each) for 7% smaller bodies (0.254 instead of 0.274 on 200 real .js files).
  // Tree leaves (0.5-4 KB, one compressed in nearly every put) use quality 1: inside a chat put,
  // quality 5 cost 1.2-1.3x of an uncompressed put, quality 1 1.06x, and on the demo's leaves it
  // keeps 85% of what quality 5 saves (1.64 MB on disk instead of 1.61; leaves left plain: 1.85).
  levels: { min: 0, max: 11, default: 4, rowDefault: 5, leaf: 1 },
  compress: (plain, level) => zlib.brotliCompressSync(plain, brotliSyncOptionsAt(level)),
  decompress: (stored) => zlib.brotliDecompressSync(stored),
  compressAsync: (plain, level) =>
    brotliAsync(plain, brotliParams(level, plain.byteLength, compressedChunk(plain))),
  decompressAsync: (stored) => unbrotliAsync(stored, { chunkSize: decompressedChunk(stored) }),
  compressStream: (level) => zlib.createBrotliCompress(brotliParams(level)),
  decompressStream: () => zlib.createBrotliDecompress(),
};

function zstdParams(level: number, chunkSize?: number) {
  return {
    ...(chunkSize === undefined ? {} : { chunkSize }),
    params: { [zstdZlib.constants.ZSTD_c_compressionLevel!]: level },
  };
}

const zstd: BodyCodec = {
  name: "zstd",
  id: codecIds.zstd,
  levels: { min: 1, max: 19, default: 3, rowDefault: 3, leaf: 1 },
  compress: (plain, level) => zstdZlib.zstdCompressSync!(plain, zstdParams(level)),
  decompress: (stored) => zstdZlib.zstdDecompressSync!(stored),
  compressAsync: (plain, level) =>
    new Promise((resolve, reject) =>
      zstdZlib.zstdCompress!(plain, zstdParams(level, compressedChunk(plain)), (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    ),
  decompressAsync: (stored) =>
    new Promise((resolve, reject) =>
      zstdZlib.zstdDecompress!(stored, { chunkSize: decompressedChunk(stored) }, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    ),
  compressStream: (level) => zstdZlib.createZstdCompress!(zstdParams(level)),
  decompressStream: () => zstdZlib.createZstdDecompress!(),
};

const codecsById = new Map<number, BodyCodec>([gzip, brotli, zstd].map((c) => [c.id, c]));
export const codecsByName: Readonly<Record<CompressingCodecName, BodyCodec>> = {
  gzip,
  brotli,
  zstd,
};

function unavailable(codec: CompressingCodecName, doing: string): LeangraphError {
  return new LeangraphError(
    SerdeErrorCode.bodyCodecUnavailable,
    `Cannot ${doing} with ${codec}: node:zlib of Node ${process.versions.node} has no ${codec} (zstd needs Node >= 22.15).`,
    {
      hint:
        "Run this process on Node >= 22.15, or write with LG_COMPRESSION=auto (brotli, which every " +
        "supported Node reads) and rewrite existing bodies with `leangraph compact` from such a runtime.",
    },
  );
}

/** The codec a header names; a coded error when this runtime cannot run it or does not know it. */
export function codecForReading(id: number, where: string): BodyCodec {
  const codec = codecsById.get(id);
  if (codec === undefined) {
    throw new LeangraphError(
      SerdeErrorCode.bodyFormatUnknown,
      `${where} is compressed with codec #${id}, which this version of leangraph does not know.`,
      { hint: "It was written by a newer leangraph; upgrade this process to read it." },
    );
  }
  if (codec.name === "zstd" && !runtimeHasZstd) throw unavailable("zstd", `read ${where}`);
  return codec;
}

/** The codec for writing; refuses zstd up front on a runtime without it. */
export function codecForWriting(name: CompressingCodecName): BodyCodec {
  if (name === "zstd" && !runtimeHasZstd) throw unavailable("zstd", "compress stored bodies");
  return codecsByName[name];
}
