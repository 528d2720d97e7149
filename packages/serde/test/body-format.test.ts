import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/blob-store.js";
import {
  bodyHeaderBytes,
  decodeBody,
  decodeBodyStream,
  encodeBody,
  encodeBodyStream,
  plainIfItMatches,
  storedBodyCodec,
} from "../src/body/body-format.js";
import { codecsByName, runtimeHasZstd } from "../src/body/codecs.js";
import { resolveCompression } from "../src/body/compression.js";
import { SerdeErrorCode } from "../src/errors.js";

const text = new TextEncoder().encode(
  "export function add(a, b) {\n  return a + b; // the same line, again and again\n}\n".repeat(60),
);

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size)
    yield bytes.subarray(offset, offset + size);
}

const codecsHere = runtimeHasZstd
  ? (["gzip", "brotli", "zstd"] as const)
  : (["gzip", "brotli"] as const);

describe("stored body format", () => {
  it.each(codecsHere)("round-trips text through %s, smaller and labelled", (codec) => {
    const compression = resolveCompression({ codec });
    const stored = encodeBody(text, compression);
    expect(stored.byteLength).toBeLessThan(text.byteLength / 4);
    expect(storedBodyCodec(stored)).toBe(codec);
    expect(Buffer.from(decodeBody(stored, "item x")).equals(Buffer.from(text))).toBe(true);
  });

  it.each(codecsHere)(
    "round-trips a stream through %s without a whole-body buffer",
    async (codec) => {
      const compression = resolveCompression({ codec })!;
      const stored = await collect(encodeBodyStream(chunksOf(text, 100), compression));
      expect(storedBodyCodec(stored)).toBe(codec);
      expect(
        (await collect(decodeBodyStream(chunksOf(stored, 7), "blob x"))).equals(Buffer.from(text)),
      ).toBe(true);
      expect(Buffer.from(decodeBody(stored, "blob x")).equals(Buffer.from(text))).toBe(true);
    },
  );

  it("stores plain what does not shrink, and what is too small to bother", () => {
    const random = randomBytes(4096);
    expect(encodeBody(random, resolveCompression())).toBe(random);
    const tiny = new TextEncoder().encode("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect(encodeBody(tiny, resolveCompression())).toBe(tiny);
    expect(encodeBody(text, undefined)).toBe(text);
  });

  it("gives a plain body that starts like a header a header of its own, so it is never misread", () => {
    const lookalike = Uint8Array.of(0x89, 0x4c, 0x47, 0x42, 1, 2, 3, 4);
    const stored = encodeBody(lookalike, undefined);
    expect(stored.byteLength).toBe(lookalike.byteLength + bodyHeaderBytes);
    expect(storedBodyCodec(stored)).toBe("none");
    expect(Buffer.from(decodeBody(stored, "item x"))).toEqual(Buffer.from(lookalike));
    // Written before headers existed, the same bytes are told apart by their content id.
    expect(plainIfItMatches(lookalike, sha256Hex(lookalike), "item x", sha256Hex)).toBe(lookalike);
  });

  it("refuses a newer format version or an unknown codec with coded errors naming the body", () => {
    const stored = encodeBody(text, resolveCompression({ codec: "gzip" }));
    const newer = Uint8Array.from(stored);
    newer[4] = 2;
    expect(() => decodeBody(newer, "blob abc")).toThrowError(
      expect.objectContaining({
        code: SerdeErrorCode.bodyFormatUnknown,
        message: expect.stringContaining("blob abc"),
      }),
    );
    const unknownCodec = Uint8Array.from(stored);
    unknownCodec[5] = 9;
    expect(() => decodeBody(unknownCodec, "item abc")).toThrowError(
      expect.objectContaining({
        code: SerdeErrorCode.bodyFormatUnknown,
        message: expect.stringContaining("codec #9"),
      }),
    );
  });

  it("returns undefined from plainIfItMatches for damage, never wrong bytes", () => {
    const id = sha256Hex(text);
    const stored = Uint8Array.from(encodeBody(text, resolveCompression()));
    expect(
      Buffer.from(plainIfItMatches(stored, id, "item", sha256Hex)!).equals(Buffer.from(text)),
    ).toBe(true);
    stored[stored.byteLength - 2]! ^= 0xff;
    expect(plainIfItMatches(stored, id, "item", sha256Hex)).toBeUndefined();
  });

  it("validates levels per codec", () => {
    expect(resolveCompression({ codec: "gzip", level: 9 })).toMatchObject({
      level: 9,
      rowLevel: 9,
      leafLevel: 1,
    });
    expect(resolveCompression("off")).toBeUndefined();
    expect(resolveCompression()).toMatchObject({
      codec: codecsByName.brotli,
      level: 4,
      rowLevel: 5,
      leafLevel: 1,
    });
    expect(() => resolveCompression({ codec: "gzip", level: 10 })).toThrowError(
      expect.objectContaining({
        code: SerdeErrorCode.invalidOption,
        message: expect.stringContaining("1 to 9 for gzip"),
      }),
    );
    expect(() => resolveCompression("lz4" as never)).toThrowError(
      expect.objectContaining({ code: SerdeErrorCode.invalidOption }),
    );
  });

  it.skipIf(runtimeHasZstd)(
    "on a runtime without zstd, refuses to write it and fails reading it with a coded error",
    () => {
      expect(() => resolveCompression("zstd")).toThrowError(
        expect.objectContaining({ code: SerdeErrorCode.bodyCodecUnavailable }),
      );
      const zstdBody = Uint8Array.of(0x89, 0x4c, 0x47, 0x42, 1, 3, 0x28, 0xb5, 0x2f, 0xfd);
      expect(() => decodeBody(zstdBody, "blob abc")).toThrowError(
        expect.objectContaining({
          code: SerdeErrorCode.bodyCodecUnavailable,
          message: expect.stringContaining("blob abc"),
        }),
      );
    },
  );
});
