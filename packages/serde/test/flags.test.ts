import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { MEMORY_PRESETS } from "@leangraph/errors";
import { describe, expect, it } from "vitest";
import { SerdeErrorCode } from "../src/errors.js";
import { createSerializerFromEnv } from "../src/from-env.js";
import { parseByteSize, serdeOptionsFromEnv } from "../src/options.js";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { createFsBlobStore } from "../src/stores/fs.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";
import { listBlobs, withTempDir } from "./helpers.js";

describe("LG_* serde flags", () => {
  it("uses the documented defaults when nothing is set", () => {
    const serializer = createSerializerFromEnv({ env: {}, blobStore: createMemoryBlobStore() });
    expect(serializer).toBeInstanceOf(RedactingSerializer);
    expect((serializer as RedactingSerializer).limits).toMatchObject({
      maxStringBytes: 200 * 1024,
      maxArrayLength: 2000,
      maxObjectKeys: 2000,
      maxPayloadBytes: 8 * 1024 * 1024,
    });
  });

  it.each([
    ["200000", 200_000],
    ["200kb", 200 * 1024],
    ["8mb", 8 * 1024 * 1024],
    ["8MB", 8 * 1024 * 1024],
    ["1.5gb", 1.5 * 1024 ** 3],
    [" 64 k ", 64 * 1024],
  ])("parses the size %j", (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it("reads every flag", () => {
    expect(
      serdeOptionsFromEnv({
        LG_REDACTING_SERDE: "on",
        LG_MAX_STRING_SIZE: "100kb",
        LG_MAX_ARRAY_SIZE: "500",
        LG_MAX_OBJECT_KEYS: "600",
        LG_MAX_CHECKPOINT_SIZE: "4mb",
        LG_BLOB_CACHE_SIZE: "0",
        LG_BLOB_DIR: "/var/lib/blobs",
        LG_COMPRESSION: "gzip",
        LG_COMPRESSION_LEVEL: "9",
      }),
    ).toEqual({
      compression: { codec: "gzip", level: 9 },
      enabled: true,
      maxStringBytes: 100 * 1024,
      maxArrayLength: 500,
      maxObjectKeys: 600,
      maxPayloadBytes: 4 * 1024 * 1024,
      stringCacheBytes: 0,
      blobDir: "/var/lib/blobs",
    });
  });

  it.each([
    ["LG_MAX_STRING_SIZE", "abc", "200kb"],
    ["LG_MAX_CHECKPOINT_SIZE", "12", "at least 256"],
    ["LG_MAX_CHECKPOINT_SIZE", "1gb", "at most 64mb"],
    ["LG_MAX_ARRAY_SIZE", "-3", "whole number"],
    ["LG_MAX_OBJECT_KEYS", "lots", "whole number"],
    ["LG_REDACTING_SERDE", "yes", "on or off"],
    ["LG_MEMORY_PRESET", "tiny", "small (for 2 GB of RAM)"],
    ["LG_COMPRESSION", "lz4", "auto, off, zstd, brotli, gzip"],
    ["LG_COMPRESSION_LEVEL", "fast", "a whole number"],
    ["LG_COMPRESSION_LEVEL", "12", "from 0 to 11 (the levels of brotli"],
  ])(
    "rejects %s=%s naming the variable, the value and what is accepted",
    (name, value, accepted) => {
      let thrown: unknown;
      try {
        createSerializerFromEnv({ env: { [name]: value }, blobStore: createMemoryBlobStore() });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: SerdeErrorCode.invalidOption });
      const message = (thrown as Error).message;
      expect(message).toContain(name);
      expect(message).toContain(JSON.stringify(value));
      expect(message).toContain(accepted);
    },
  );

  it("compresses by default (auto), and LG_COMPRESSION=off turns it off", () => {
    expect(serdeOptionsFromEnv({}).compression).toEqual({ codec: "auto", level: undefined });
    expect(serdeOptionsFromEnv({ LG_COMPRESSION: "off" }).compression.codec).toBe("off");
    expect(() =>
      serdeOptionsFromEnv({ LG_COMPRESSION: "off", LG_COMPRESSION_LEVEL: "3" }),
    ).toThrowError(
      expect.objectContaining({ message: expect.stringContaining("off compresses nothing") }),
    );
  });

  it("takes the blob cache size from LG_MEMORY_PRESET unless LG_BLOB_CACHE_SIZE is set", () => {
    expect(serdeOptionsFromEnv({ LG_MEMORY_PRESET: "small" }).stringCacheBytes).toBe(
      MEMORY_PRESETS.small.blobCacheBytes,
    );
    expect(serdeOptionsFromEnv({ LG_MEMORY_PRESET: "large" }).stringCacheBytes).toBe(
      MEMORY_PRESETS.large.blobCacheBytes,
    );
    expect(
      serdeOptionsFromEnv({ LG_MEMORY_PRESET: "small", LG_BLOB_CACHE_SIZE: "1mb" })
        .stringCacheBytes,
    ).toBe(1024 * 1024);
    expect(serdeOptionsFromEnv({ LG_MEMORY_PRESET: "" }).stringCacheBytes).toBeUndefined();
  });

  it("rejects an unknown option or a store that is not one, naming it", () => {
    expect(() => createSerializerFromEnv({ environment: {} } as never)).toThrowError(
      expect.objectContaining({
        code: SerdeErrorCode.invalidOption,
        message: expect.stringContaining("environment={} is not an option"),
      }),
    );
    expect(() => createSerializerFromEnv({ env: {}, blobStore: "dir" } as never)).toThrowError(
      expect.objectContaining({
        code: SerdeErrorCode.invalidOption,
        message: expect.stringContaining('blobStore="dir" is not accepted: expected a BlobStore'),
      }),
    );
  });

  it("accepts process.env itself (no plain object, so a record schema would refuse it)", () => {
    expect(() =>
      createSerializerFromEnv({ env: process.env, blobStore: createMemoryBlobStore() }),
    ).not.toThrow();
  });

  it("LG_REDACTING_SERDE=off hands back the inner serializer itself", () => {
    const inner = new JsonPlusSerializer();
    expect(createSerializerFromEnv({ env: { LG_REDACTING_SERDE: "off" }, inner })).toBe(inner);
  });

  it("stores blobs under LG_BLOB_DIR by default", async () => {
    await withTempDir(async (dir) => {
      const serializer = createSerializerFromEnv({ env: { LG_BLOB_DIR: dir } });
      expect(serializer).toBeInstanceOf(RedactingSerializer);
      await serializer.dumpsTyped({ big: "q".repeat(300 * 1024) });
      const ids = await listBlobs((serializer as RedactingSerializer).blobStore);
      expect(ids.length).toBeGreaterThan(0);
      expect(await listBlobs(createFsBlobStore({ dir }))).toEqual(ids);
    });
  });
});
