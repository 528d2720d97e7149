import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isEnvironment, LeangraphError, parseOptions } from "../src/index.js";

const schema = z.strictObject({
  busyTimeoutMs: z
    .number({ message: "a whole number of milliseconds from 0 to 60000" })
    .int({ message: "a whole number of milliseconds from 0 to 60000" })
    .min(0, { message: "a whole number of milliseconds from 0 to 60000" })
    .max(60_000, { message: "a whole number of milliseconds from 0 to 60000" })
    .optional(),
  codec: z
    .strictObject({
      blobMinBytes: z.number().int().min(1, { message: "a whole number of bytes, at least 1" }),
    })
    .partial()
    .optional(),
  dir: z.string({ message: "a directory path" }),
});

function rejection(input: unknown): LeangraphError {
  try {
    parseOptions(schema, input, "makeThing(options)");
  } catch (error) {
    if (error instanceof LeangraphError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("parseOptions", () => {
  it("returns the parsed options when they are accepted", () => {
    expect(parseOptions(schema, { dir: "x", codec: { blobMinBytes: 5 } }, "makeThing")).toEqual({
      dir: "x",
      codec: { blobMinBytes: 5 },
    });
  });

  it("names every rejected option, the value received and what is accepted", () => {
    const error = rejection({ busyTimeoutMs: "x", codec: { blobMinBytes: -1 }, dir: "d" });
    expect(error.code).toBe("ERR_LG_INVALID_OPTION");
    expect(error.message).toContain("makeThing(options)");
    expect(error.message).toContain(
      'busyTimeoutMs="x" is not accepted: expected a whole number of milliseconds from 0 to 60000',
    );
    expect(error.message).toContain(
      "codec.blobMinBytes=-1 is not accepted: expected a whole number of bytes, at least 1",
    );
    expect(error.cause).toBeInstanceOf(z.ZodError);
  });

  it("says a required option is missing", () => {
    expect(rejection({}).message).toContain("dir is missing: expected a directory path");
  });

  it("refuses unknown options, top-level and nested, listing the known ones", () => {
    const top = rejection({ dir: "d", busyTimeout: 100 });
    expect(top.code).toBe("ERR_LG_INVALID_OPTION");
    expect(top.message).toContain(
      "busyTimeout=100 is not an option (known options: busyTimeoutMs, codec, dir)",
    );
    const nested = rejection({ dir: "d", codec: { blobMinByte: 1 } });
    expect(nested.message).toContain(
      "codec.blobMinByte=1 is not an option (known options: blobMinBytes)",
    );
  });

  it("shows values the way a user recognises them, never all of a big one", () => {
    const long = rejection({
      dir: "x".repeat(10_000) as unknown as number,
      busyTimeoutMs: () => 1,
    });
    expect(long.message).toContain("busyTimeoutMs=a function");
    expect(rejection({ dir: new Map() }).message).toContain("dir=a Map is not accepted");
    expect(rejection("nope").message).toContain('the options argument "nope" is not accepted');
    expect(rejection({ dir: "d", busyTimeoutMs: 1n }).message).toContain("busyTimeoutMs=1n");
    const big = rejection({ dir: "d", codec: "y".repeat(10_000) });
    expect(big.message.length).toBeLessThan(400);
  });
});

describe("isEnvironment", () => {
  it("accepts process.env itself and objects of string values, nothing else", () => {
    expect(isEnvironment(process.env)).toBe(true);
    expect(isEnvironment({})).toBe(true);
    expect(isEnvironment({ LG_CHECKPOINTER: "memory", UNSET: undefined })).toBe(true);
    for (const value of [null, undefined, "LG_CHECKPOINTER=memory", ["a"], { PORT: 1 }]) {
      expect(isEnvironment(value), JSON.stringify(value)).toBe(false);
    }
  });
});
