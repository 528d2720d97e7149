import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import type { BodyLayer } from "./body-layer.js";
import {
  type BodyCompression,
  decodeBody,
  decodeBodyStream,
  encodeBody,
  encodeBodyStream,
} from "./body-format.js";
import { codecForWriting, codecsByName, type CompressingCodecName } from "./codecs.js";

/**
 * `auto` writes brotli on every runtime: it is built into every Node leangraph supports (>= 20.19),
 * so a body written anywhere loads anywhere, and on source text it beats gzip -6 and zstd -3 on
 * ratio (measured: README, Compression). `zstd` is opt-in for fleets on Node >= 22.15 only.
 */
export const compressionSettings = ["auto", "off", "zstd", "brotli", "gzip"] as const;
export type CompressionSetting = (typeof compressionSettings)[number];

const autoCodec: CompressingCodecName = "brotli";

export interface CompressionOptions {
  /** @default "auto" */
  compression?: CompressionSetting;
  /** The codec's level (gzip 1-9, brotli 0-11, zstd 1-19); @default its own (6, 5, 3) */
  level?: number;
}

export const compressionOptionsSchema = z.strictObject({
  compression: z
    .enum(compressionSettings, { message: compressionSettings.join(", ") })
    .optional(),
  level: z.number({ message: "a whole number" }).int("a whole number").optional(),
});

/** What a setting writes with, or undefined for `off`. Refuses a level outside the codec's range. */
export function resolveCompression(options: CompressionOptions = {}): BodyCompression | undefined {
  const parsed = parseOptions(compressionOptionsSchema, options, "compression options");
  const setting = parsed.compression ?? "auto";
  if (setting === "off") return undefined;
  const codec = codecForWriting(setting === "auto" ? autoCodec : setting);
  const level = parsed.level ?? codec.levels.default;
  if (level < codec.levels.min || level > codec.levels.max) {
    parseOptions(
      z.strictObject({ level: z.number().min(codec.levels.min).max(codec.levels.max) }),
      { level },
      `compression options (${codec.name} levels are ${codec.levels.min} to ${codec.levels.max})`,
    );
  }
  return { codec, level };
}

/** A body layer that may also transform a stream without holding it whole. */
export interface StreamingBodyLayer extends BodyLayer {
  encodeStream?(plain: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
  decodeStream?(stored: AsyncIterable<Uint8Array>, where: string): AsyncIterable<Uint8Array>;
}

/**
 * Compression as the first body layer of a blob store. Decoding reads any header (any codec,
 * whatever this layer writes) and passes headerless bodies through, so turning compression on,
 * off or to another codec never strands a stored body.
 */
export function createCompressionLayer(options: CompressionOptions = {}): StreamingBodyLayer {
  const compression = resolveCompression(options);
  return {
    name: `compression:${compression ? `${compression.codec.name}-${compression.level}` : "off"}`,
    async encode(plain) {
      return encodeBody(plain, compression);
    },
    async decode(stored, place) {
      return decodeBody(stored, `${place.kind} ${place.id}`);
    },
    encodeStream: (plain) => (compression ? encodeBodyStream(plain, compression) : plain),
    decodeStream: (stored, where) => decodeBodyStream(stored, where),
  };
}

export { codecsByName };
