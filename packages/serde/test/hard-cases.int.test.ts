import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { describe, expect, it } from "vitest";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { createFsBlobStore } from "../src/stores/fs.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";
import { payloadText, withTempDir } from "./helpers.js";

const kb = 1024;
const maxPayloadBytes = 8 * 1024 * 1024;

/** 150 KB strings that differ in their first chars but share one buffer (cheap to hold 10,000). */
function distinctStrings(count: number, bytes: number): string[] {
  const body = "x".repeat(bytes - 8);
  return Array.from({ length: count }, (_, index) => String(index).padStart(8, "0") + body);
}

function countMismatches(actual: unknown[], expected: unknown[]): number {
  let mismatches = Math.abs(actual.length - expected.length);
  for (let index = 0; index < Math.min(actual.length, expected.length); index++) {
    if (actual[index] !== expected[index]) mismatches += 1;
  }
  return mismatches;
}

describe("the payload never exceeds maxPayloadBytes, and nothing is lost", () => {
  it("10,000 strings of 150 KB in one array (each under the string threshold)", async () => {
    await withTempDir(async (dir) => {
      // fsync off: this case is about the payload and streaming, and 1.5 GB of fsync on a shared
      // CI disk costs ~30 s; durability is the store's own tests' business.
      const blobStore = createFsBlobStore({ dir, fsync: false });
      const serializer = new RedactingSerializer({ blobStore });
      const documents = distinctStrings(10_000, 150 * kb);
      const [type, payload] = await serializer.dumpsTyped({ documents });
      expect(payload.byteLength).toBeLessThanOrEqual(maxPayloadBytes);
      // 1.5 GB of JSON: written and read back element by element (kind "a").
      expect(payloadText(payload)).toContain(":a:");
      const loaded = await new RedactingSerializer({
        blobStore: createFsBlobStore({ dir }),
      }).loadsTyped(type, payload);
      expect(countMismatches(loaded.documents, documents)).toBe(0);
    });
  });

  it("10,000 strings of 150 KB spread over 100 keys (the largest strings leave first)", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const all = distinctStrings(10_000, 150 * kb);
    const state = Object.fromEntries(
      Array.from({ length: 100 }, (_, key) => [
        `file${key}`,
        all.slice(key * 100, key * 100 + 100),
      ]),
    );
    const [type, payload] = await serializer.dumpsTyped(state);
    expect(payload.byteLength).toBeLessThanOrEqual(maxPayloadBytes);
    const loaded = await serializer.loadsTyped(type, payload);
    expect(countMismatches(Object.values(loaded).flat(), all)).toBe(0);
  });

  it("a 5,000,000-element array", async () => {
    await withTempDir(async (dir) => {
      const serializer = new RedactingSerializer({ blobStore: createFsBlobStore({ dir }) });
      const samples = Array.from({ length: 5_000_000 }, (_, index) => index * 7 + 0.5);
      const [type, payload] = await serializer.dumpsTyped({ samples });
      expect(payload.byteLength).toBeLessThanOrEqual(maxPayloadBytes);
      expect(payloadText(payload)).toContain(":a:");
      const loaded = await new RedactingSerializer({
        blobStore: createFsBlobStore({ dir }),
      }).loadsTyped(type, payload);
      expect(countMismatches(loaded.samples, samples)).toBe(0);
    });
  });

  it("one 500,000,000-char string, written and read in slices", async () => {
    await withTempDir(async (dir) => {
      const serializer = new RedactingSerializer({ blobStore: createFsBlobStore({ dir }) });
      // Ends in an emoji so a surrogate pair sits in the last slice; the JSON of this string with
      // any escaping would not fit in one V8 string, so it must never be built.
      const huge = `${"x".repeat(500_000_000 - 2)}😀`;
      const [type, payload] = await serializer.dumpsTyped({ huge });
      expect(payload.byteLength).toBeLessThanOrEqual(maxPayloadBytes);
      const loaded = await new RedactingSerializer({
        blobStore: createFsBlobStore({ dir }),
      }).loadsTyped(type, payload);
      expect(loaded.huge.length).toBe(huge.length);
      expect(loaded.huge === huge).toBe(true);
    });
  });

  it("100,000 levels of nesting (the stock serializer overflows the stack)", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    type Node = { level: number; child?: Node; items?: unknown[] };
    const root: Node = { level: 0 };
    let node = root;
    for (let level = 1; level < 100_000; level++) {
      const child: Node = { level };
      if (level % 2 === 0) node.items = [child];
      else node.child = child;
      node = child;
    }
    await expect(new JsonPlusSerializer().dumpsTyped(root)).rejects.toThrow(RangeError);

    const [type, payload] = await serializer.dumpsTyped(root);
    expect(payload.byteLength).toBeLessThanOrEqual(maxPayloadBytes);
    const loaded = await serializer.loadsTyped(type, payload);
    // Walk both chains iteratively: a recursive deep-equal would itself overflow.
    let expected: Node | undefined = root;
    let actual: Node | undefined = loaded;
    let levels = 0;
    let mismatches = 0;
    while (expected) {
      if (actual?.level !== expected.level) mismatches += 1;
      if (Object.keys(actual ?? {}).join() !== Object.keys(expected).join()) mismatches += 1;
      expected = expected.child ?? (expected.items?.[0] as Node | undefined);
      actual = actual!.child ?? (actual!.items?.[0] as Node | undefined);
      levels += 1;
    }
    expect(mismatches).toBe(0);
    expect(levels).toBe(100_000);
  });
});
