/**
 * Every knob of the serializer, validated once at the edge (constructor or environment) so the
 * code below trusts typed numbers. One zod schema per source; both report ERR_LG_INVALID_OPTION
 * naming the option, the value and what is accepted.
 */
import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import {
  acceptedMemoryPreset,
  MEMORY_PRESET_NAMES,
  MEMORY_PRESETS,
  type MemoryPresetName,
  parseOptions,
} from "@leangraph/errors";
import { z } from "zod";
import { type BlobStore, isBlobStore } from "./blob-store.js";
import { codecsByName } from "./body/codecs.js";
import { type CompressionOptions, codecNameOf, compressionSettings } from "./body/compression.js";
import { LeangraphError, SerdeErrorCode } from "./errors.js";

const sizeUnits: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};
const sizePattern = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$/i;

/** Parses `200000`, `200kb`, `8mb`, `1.5gb` (binary units: 1 kb = 1024 bytes); undefined if not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = sizePattern.exec(text);
  if (!match) return undefined;
  const bytes = Number(match[1]) * sizeUnits[match[2]!.toLowerCase()]!;
  return Number.isSafeInteger(Math.floor(bytes)) ? Math.floor(bytes) : undefined;
}

/** Smallest payload budget that can always hold one top-level reference. */
export const minPayloadBytes = 256;
/**
 * Largest payload budget accepted. The fast path stringifies a value whose rough size is under
 * the budget; that estimate undercounts escapes by up to 6x, and 6 x 64 MiB stays below V8's
 * 536,870,888-char string limit. Checkpoint rows bigger than this make no sense anyway.
 */
export const maxPayloadBytesLimit = 64 * 1024 * 1024;

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const accepted = { message: `a whole number from ${min} to ${max}` };
  return z.number(accepted).int(accepted).min(min, accepted).max(max, accepted);
};

/** Any object with the BlobStore methods the serializer calls. */
export const blobStoreOption = z.custom<BlobStore>(isBlobStore, {
  message:
    "a BlobStore with put, putStream, get, getStream and has, such as createFsBlobStore({ dir }) or createMemoryBlobStore()",
});

/** Any object with LangGraph's SerializerProtocol methods. */
export const serializerOption = z.custom<SerializerProtocol>(isSerializerProtocol, {
  message: "a SerializerProtocol with dumpsTyped and loadsTyped, such as new JsonPlusSerializer()",
});

export function isSerializerProtocol(value: unknown): value is SerializerProtocol {
  const candidate = value as Partial<SerializerProtocol> | null | undefined;
  return typeof candidate?.dumpsTyped === "function" && typeof candidate?.loadsTyped === "function";
}

/** Strict: an unknown option (a typo such as `maxStringByte`) is rejected, not ignored. */
const redactingSerializerOptionsSchema = z.strictObject({
  maxStringBytes: wholeNumber(1).default(200 * 1024),
  maxArrayLength: wholeNumber(1).default(2000),
  maxObjectKeys: wholeNumber(1).default(2000),
  maxPayloadBytes: wholeNumber(minPayloadBytes, maxPayloadBytesLimit).default(8 * 1024 * 1024),
  maxDepth: wholeNumber(2, 5000).default(500),
  stringCacheBytes: wholeNumber(0).default(1024 * 1024 * 1024),
  chunkMinBytes: wholeNumber(1).default(64 * 1024),
  blobStore: blobStoreOption.optional(),
  inner: serializerOption.optional(),
});

/** The thresholds of RedactingSerializer; each has a constructor option and (most) an LG_* flag. */
export interface RedactingSerializerLimits {
  /**
   * Strings longer than this in UTF-8 bytes, and binaries above it, go to a blob (`LG_MAX_STRING_SIZE`).
   * @default 204800 (200 KiB)
   */
  maxStringBytes: number;
  /**
   * Arrays longer than this (also Map/Set entry lists) go to a blob whole (`LG_MAX_ARRAY_SIZE`).
   * @default 2000
   */
  maxArrayLength: number;
  /**
   * Objects with more keys than this go to a blob whole (`LG_MAX_OBJECT_KEYS`).
   * @default 2000
   */
  maxObjectKeys: number;
  /**
   * Hard cap on every payload `dumpsTyped` returns; the largest remaining parts are externalized
   * until it fits (`LG_MAX_CHECKPOINT_SIZE`). At least 256, room for one reference.
   * @default 8388608 (8 MiB)
   */
  maxPayloadBytes: number;
  /**
   * Subtrees deeper than this are encoded into their own blobs, so no walk (ours, JSON.parse,
   * the stock reviver) ever recurses deeper than this however deep the value is.
   * @default 500
   */
  maxDepth: number;
  /**
   * UTF-16 units of large strings remembered (and so kept alive) to skip re-hashing unchanged
   * ones; 0 disables (`LG_BLOB_CACHE_SIZE`). See string-blob-cache.ts for the retention policy.
   * @default 1073741824 (1 GiB)
   */
  stringCacheBytes: number;
  /**
   * Externalized UTF-8 strings and binaries of at least this many bytes (up to 16 MiB) are stored
   * as content-defined chunks, so a new version of an edited file stores only the chunks around
   * the edit. Below it chunking does not pay (a manifest and a blob per ~8 KiB chunk).
   * @default 65536 (64 KiB)
   */
  chunkMinBytes: number;
}

const acceptedSize = "a byte size such as 200000, 200kb, 8mb or 1gb";
const acceptedCount = "a positive whole number such as 2000";

const byteSizeFlag = (minBytes: number, maxBytes = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .transform((text, context) => {
      const bytes = parseByteSize(text);
      if (bytes === undefined || bytes < minBytes || bytes > maxBytes) {
        const range = [
          minBytes > 0 ? `at least ${minBytes} bytes` : "",
          maxBytes < Number.MAX_SAFE_INTEGER ? `at most ${maxBytes / 1024 / 1024}mb` : "",
        ].filter(Boolean);
        context.addIssue({
          code: "custom",
          message: `${acceptedSize}${range.length > 0 ? ` (${range.join(", ")})` : ""}`,
        });
        return z.NEVER;
      }
      return bytes;
    })
    .optional();

const countFlag = z
  .string()
  .regex(/^\s*[1-9]\d*\s*$/, acceptedCount)
  .transform(Number)
  .optional();

/** The LG_* variables this package reads. Unknown LG_* variables belong to other packages. */
export const serdeEnvSchema = z
  .object({
    LG_REDACTING_SERDE: z
      .enum(["on", "off"], { message: "on or off" })
      .default("on")
      .transform((flag) => flag === "on"),
    LG_MAX_STRING_SIZE: byteSizeFlag(1),
    LG_MAX_ARRAY_SIZE: countFlag,
    LG_MAX_OBJECT_KEYS: countFlag,
    LG_MAX_CHECKPOINT_SIZE: byteSizeFlag(minPayloadBytes, maxPayloadBytesLimit),
    LG_BLOB_CACHE_SIZE: byteSizeFlag(0),
    LG_BLOB_DIR: z.string().min(1, "a non-empty directory path").optional(),
    /** Sets LG_BLOB_CACHE_SIZE's default (the table is @leangraph/errors' MEMORY_PRESETS). */
    LG_MEMORY_PRESET: z
      .enum(["", ...MEMORY_PRESET_NAMES] as [string, ...string[]], {
        message: acceptedMemoryPreset,
      })
      .optional(),
    LG_COMPRESSION: z
      .enum(compressionSettings, { message: compressionSettings.join(", ") })
      .default("auto"),
    LG_COMPRESSION_LEVEL: z
      .string()
      .regex(/^\s*-?\d+\s*$/, "a whole number (gzip 1-9, brotli 0-11, zstd 1-19)")
      .transform(Number)
      .optional(),
  })
  .superRefine((flags, context) => {
    const codec = codecNameOf(flags.LG_COMPRESSION);
    const level = flags.LG_COMPRESSION_LEVEL;
    if (level === undefined) return;
    if (codec === undefined) {
      context.addIssue({
        code: "custom",
        path: ["LG_COMPRESSION_LEVEL"],
        message: "unset (LG_COMPRESSION=off compresses nothing)",
      });
      return;
    }
    const { min, max } = codecsByName[codec].levels;
    if (level < min || level > max) {
      context.addIssue({
        code: "custom",
        path: ["LG_COMPRESSION_LEVEL"],
        message: `a whole number from ${min} to ${max} (the levels of ${codec}, which LG_COMPRESSION=${flags.LG_COMPRESSION} writes)`,
      });
    }
  });

export interface SerdeEnvOptions extends Partial<RedactingSerializerLimits> {
  /** `LG_REDACTING_SERDE`: false hands back the inner serializer unchanged. */
  enabled: boolean;
  /** `LG_BLOB_DIR`, when set. */
  blobDir: string | undefined;
  /** `LG_COMPRESSION` and `LG_COMPRESSION_LEVEL`: how blob and item bodies are stored. */
  compression: CompressionOptions;
}

/**
 * Reads the serde flags. Throws ERR_LG_INVALID_OPTION at the first call with a bad value, so a
 * typo fails the process at start instead of silently running with defaults.
 */
export function serdeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SerdeEnvOptions {
  const parsed = serdeEnvSchema.safeParse(env);
  if (!parsed.success) throw invalidOptionError(parsed.error, env, "environment variable");
  const flags = parsed.data;
  const options: SerdeEnvOptions = {
    enabled: flags.LG_REDACTING_SERDE,
    blobDir: flags.LG_BLOB_DIR,
    compression: { codec: flags.LG_COMPRESSION, level: flags.LG_COMPRESSION_LEVEL },
  };
  if (flags.LG_MAX_STRING_SIZE !== undefined) options.maxStringBytes = flags.LG_MAX_STRING_SIZE;
  if (flags.LG_MAX_ARRAY_SIZE !== undefined) options.maxArrayLength = flags.LG_MAX_ARRAY_SIZE;
  if (flags.LG_MAX_OBJECT_KEYS !== undefined) options.maxObjectKeys = flags.LG_MAX_OBJECT_KEYS;
  if (flags.LG_MAX_CHECKPOINT_SIZE !== undefined) {
    options.maxPayloadBytes = flags.LG_MAX_CHECKPOINT_SIZE;
  }
  const preset = flags.LG_MEMORY_PRESET
    ? MEMORY_PRESETS[flags.LG_MEMORY_PRESET as MemoryPresetName]
    : undefined;
  const stringCacheBytes = flags.LG_BLOB_CACHE_SIZE ?? preset?.blobCacheBytes;
  if (stringCacheBytes !== undefined) options.stringCacheBytes = stringCacheBytes;
  return options;
}

/** Validates `new RedactingSerializer(options)`: the limits with their defaults, store and inner serializer. */
export function parseRedactingSerializerOptions(
  input: unknown,
): RedactingSerializerLimits & { blobStore?: BlobStore; inner?: SerializerProtocol } {
  return parseOptions(
    redactingSerializerOptionsSchema,
    input ?? {},
    "new RedactingSerializer(options)",
  );
}

function invalidOptionError(error: z.ZodError, source: unknown, noun: string): LeangraphError {
  const issue = error.issues[0]!;
  const name = issue.path.join(".");
  const value = (source as Record<string, unknown> | undefined)?.[String(issue.path[0])];
  return new LeangraphError(
    SerdeErrorCode.invalidOption,
    `Invalid ${noun} ${name}=${JSON.stringify(value)}: expected ${issue.message}.`,
    { cause: error },
  );
}
