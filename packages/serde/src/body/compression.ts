import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import {
  type BodyCompression,
  decodeBodyAsync,
  decodeBodyStream,
  encodeBodyAsync,
  encodeBodyStream,
} from "./body-format.js";
import type { BodyLayer } from "./body-layer.js";
import { type CompressingCodecName, codecForWriting } from "./codecs.js";

/**
 * `auto` writes brotli on every runtime: it is built into every Node leangraph supports (>= 20.19),
 * so a body written anywhere loads anywhere, and on source text it compresses as well as gzip -6
 * and better than zstd -3 (measured: README, Compression). `zstd` is opt-in for fleets on Node >= 22.15 only.
 */
export const compressionSettings = ["auto", "off", "zstd", "brotli", "gzip"] as const;
export type CompressionSetting = (typeof compressionSettings)[number];

const autoCodec: CompressingCodecName = "brotli";

export interface CompressionOptions {
  /** `LG_COMPRESSION`. @default "auto" */
  codec?: CompressionSetting;
  /**
   * `LG_COMPRESSION_LEVEL`: gzip 1-9, brotli 0-11, zstd 1-19. @default the codec's: gzip 6,
   * brotli 4 (5 for bodies kept in database rows), zstd 3
   */
  level?: number;
}

const acceptedSetting = compressionSettings.join(", ");

/** The `compression` option of savers and stores: a setting, or a setting with a level. */
export const compressionOption = z.union(
  [
    z.enum(compressionSettings),
    z.strictObject({
      codec: z.enum(compressionSettings, { message: acceptedSetting }).optional(),
      level: z.number({ message: "a whole number" }).int("a whole number").optional(),
    }),
  ],
  { message: `one of ${acceptedSetting}, or { codec, level }` },
);

/** The codec a setting writes with (auto: brotli), or undefined for `off`. */
export function codecNameOf(setting: CompressionSetting): CompressingCodecName | undefined {
  return setting === "off" ? undefined : setting === "auto" ? autoCodec : setting;
}

/** What a setting writes with, or undefined for `off`. Refuses a level outside the codec's range. */
export function resolveCompression(
  options: CompressionSetting | CompressionOptions = {},
): BodyCompression | undefined {
  const parsed = parseOptions(
    z.object({ compression: compressionOption }),
    { compression: options },
    "compression options",
  ).compression;
  const { codec: setting = "auto", level: asked } =
    typeof parsed === "string" ? { codec: parsed } : parsed;
  const name = codecNameOf(setting);
  if (name === undefined) return undefined;
  const codec = codecForWriting(name);
  const level = asked ?? codec.levels.default;
  const { min, max } = codec.levels;
  parseOptions(
    z.object({
      level: z
        .number()
        .min(min, `${min} to ${max} for ${name}`)
        .max(max, `${min} to ${max} for ${name}`),
    }),
    { level },
    "compression options",
  );
  return {
    codec,
    level,
    rowLevel: asked ?? codec.levels.rowDefault,
    leafLevel: codec.levels.leaf,
  };
}

/** A body layer that may also transform a stream without holding it whole. */
export interface StreamingBodyLayer extends BodyLayer {
  encodeStream?(plain: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
  decodeStream?(stored: AsyncIterable<Uint8Array>, where: string): AsyncIterable<Uint8Array>;
}

const compressionLayerName = "compression";

export function isCompressionLayer(layer: BodyLayer): boolean {
  return layer.name.startsWith(`${compressionLayerName}:`);
}

/**
 * Compression as the first body layer of a blob store. Decoding reads any header (any codec,
 * whatever this layer writes) and passes headerless bodies through, so turning compression on,
 * off or to another codec never strands a stored body.
 */
export function createCompressionLayer(
  options: CompressionSetting | CompressionOptions = {},
): StreamingBodyLayer {
  const compression = resolveCompression(options);
  return {
    name: `${compressionLayerName}:${compression ? `${compression.codec.name}-${compression.level}` : "off"}`,
    encode: (plain) => encodeBodyAsync(plain, compression),
    decode: (stored, place) => decodeBodyAsync(stored, `${place.kind} ${place.id}`),
    encodeStream: (plain) => (compression ? encodeBodyStream(plain, compression) : plain),
    decodeStream: (stored, where) => decodeBodyStream(stored, where),
  };
}
