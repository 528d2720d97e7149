import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { describe, expect, it } from "vitest";
import { SerdeErrorCode } from "../src/errors.js";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { formatReference } from "../src/reference-format.js";
import { collectReferencedBlobIds } from "../src/referenced-blobs.js";
import { createFsBlobStore } from "../src/stores/fs.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";
import { countingStore, listBlobs, payloadText, withTempDir } from "./helpers.js";

const kb = 1024;
/** These tests count one blob per large string; chunking (its own tests) is off for them. */
const oneBlobPerString = { chunkMinBytes: Number.MAX_SAFE_INTEGER };
const mb = 1024 * kb;

async function roundTrip(serializer: RedactingSerializer, value: unknown) {
  const [type, payload] = await serializer.dumpsTyped(value);
  return { type, payload, loaded: await serializer.loadsTyped(type, payload) };
}

describe("RedactingSerializer", () => {
  it("moves a string above maxStringBytes to a blob and leaves a short reference", async () => {
    const blobStore = createMemoryBlobStore();
    const serializer = new RedactingSerializer({ ...oneBlobPerString, blobStore });
    const big = "a".repeat(300 * kb);
    const { payload, loaded } = await roundTrip(serializer, { big, small: "b" });
    expect(payload.byteLength).toBeLessThan(200);
    expect(loaded).toStrictEqual({ big, small: "b" });
    expect(await listBlobs(blobStore)).toHaveLength(1);
  });

  it("measures maxStringBytes in UTF-8 bytes, not UTF-16 units", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const threeBytesEach = "€".repeat(70 * kb); // 70K units, 210 KB of UTF-8
    const { payload, loaded } = await roundTrip(serializer, threeBytesEach);
    expect(payload.byteLength).toBeLessThan(200);
    expect(loaded).toBe(threeBytesEach);
  });

  it("keeps lone surrogates in externalized strings (stored as UTF-16LE)", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const broken = `\ud83d${"x".repeat(300 * kb)}\udc00 tail \ud800`;
    const { payload, loaded } = await roundTrip(serializer, { broken });
    expect(payloadText(payload)).toContain(":w:");
    expect(loaded.broken).toBe(broken);
  });

  it("round-trips user strings that look like references without resolving them", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const lookAlikes = [
      formatReference("s", "f".repeat(64)),
      "\uE000lg:esc:already escaped",
      "\uE000lg:",
      "\uE000lg:ref:s:../../etc/passwd",
    ];
    const { loaded } = await roundTrip(serializer, { lookAlikes, [lookAlikes[0]!]: 1 });
    expect(loaded).toStrictEqual({ lookAlikes, [lookAlikes[0]!]: 1 });
  });

  it("externalizes arrays and objects above their thresholds losslessly, never truncating", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const value = {
      rows: Array.from({ length: 2500 }, (_, index) => ({ index })),
      wide: Object.fromEntries(Array.from({ length: 2500 }, (_, index) => [`k${index}`, index])),
      set: new Set(Array.from({ length: 3000 }, (_, index) => index)),
      map: new Map(Array.from({ length: 3000 }, (_, index) => [index, `v${index}`])),
    };
    const { payload, loaded } = await roundTrip(serializer, value);
    expect(payload.byteLength).toBeLessThan(1000);
    expect(loaded).toStrictEqual(value);
  });

  it("reads LangChain messages holding large content back as message instances", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const content = "file body\n".repeat(50 * kb);
    const { payload, loaded } = await roundTrip(serializer, {
      messages: [new HumanMessage(content)],
    });
    expect(payload.byteLength).toBeLessThan(1000);
    expect(loaded.messages[0]).toBeInstanceOf(HumanMessage);
    expect(loaded.messages[0].content).toBe(content);
  });

  it("keeps the stock 'bytes' type for a small top-level Uint8Array and references a large one", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const small = new Uint8Array([1, 2, 3]);
    expect((await serializer.dumpsTyped(small))[0]).toBe("bytes");
    const large = new Uint8Array(3 * mb).map((_, index) => index % 251);
    const { type, payload, loaded } = await roundTrip(serializer, large);
    expect(type).toBe("json");
    expect(payload.byteLength).toBeLessThan(200);
    expect(loaded.constructor).toBe(Uint8Array);
    // Buffer.equals: vitest's deep equality walks 3M elements one by one.
    expect(Buffer.from(loaded).equals(Buffer.from(large))).toBe(true);
  });

  it("reads payloads written by JsonPlusSerializer", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const value = { messages: [new HumanMessage("hi")], when: new Map([["a", new Set([1])]]) };
    const [type, payload] = await new JsonPlusSerializer().dumpsTyped(value);
    expect(await serializer.loadsTyped(type, payload)).toStrictEqual(value);
  });

  it("writes the same large string once across many checkpoints, and once more never after a reload", async () => {
    await withTempDir(async (dir) => {
      const blobStore = countingStore(createFsBlobStore({ dir }));
      const serializer = new RedactingSerializer({ ...oneBlobPerString, blobStore });
      const artifact = "generated source\n".repeat(300 * kb);
      let payload: Uint8Array | undefined;
      for (let step = 0; step < 100; step++) {
        [, payload] = await serializer.dumpsTyped({ artifact, step });
      }
      expect(blobStore.writes()).toBe(1);

      // A fresh process reads the checkpoint back; dumping what it read costs no new write.
      const reader = new RedactingSerializer({ ...oneBlobPerString, blobStore });
      const state = await reader.loadsTyped("json", payload!);
      expect(state.artifact).toBe(artifact);
      await reader.dumpsTyped({ ...state, step: 100 });
      expect(blobStore.writes()).toBe(1);
    });
  });

  it("rewrites a cached string whose blob was deleted instead of pointing at nothing", async () => {
    const blobStore = createMemoryBlobStore();
    const serializer = new RedactingSerializer({ blobStore });
    const artifact = "z".repeat(300 * kb);
    await serializer.dumpsTyped({ artifact });
    for (const id of await listBlobs(blobStore)) await blobStore.delete(id);
    const [type, payload] = await serializer.dumpsTyped({ artifact });
    expect(await new RedactingSerializer({ blobStore }).loadsTyped(type, payload)).toStrictEqual({
      artifact,
    });
  });

  it("fits even a root whose keys alone exceed the budget, by moving the root whole", async () => {
    const serializer = new RedactingSerializer({
      blobStore: createMemoryBlobStore(),
      maxPayloadBytes: 1024,
      maxObjectKeys: 10_000,
    });
    const wide = Object.fromEntries(
      Array.from({ length: 3000 }, (_, index) => [`${"k".repeat(300)}${index}`, index]),
    );
    const { payload, loaded } = await roundTrip(serializer, wide);
    expect(payload.byteLength).toBeLessThanOrEqual(1024);
    expect(loaded).toStrictEqual(wide);
  });

  it("references a large top-level Buffer like stock keeps it: as bytes, not as Buffer.toJSON", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const buffer = Buffer.alloc(1 * mb, 7);
    const { type, loaded } = await roundTrip(serializer, buffer);
    expect(type).toBe("json");
    expect(Buffer.from(loaded).equals(buffer)).toBe(true);
  });

  it("lists every blob a payload depends on, through nested JSON blobs", async () => {
    const blobStore = createMemoryBlobStore();
    const serializer = new RedactingSerializer({
      ...oneBlobPerString,
      blobStore,
      maxArrayLength: 10,
    });
    const value = {
      rows: Array.from({ length: 50 }, (_, index) => ({ index, text: `${index}`.repeat(300_000) })),
    };
    const [, payload] = await serializer.dumpsTyped(value);
    const ids = await collectReferencedBlobIds(payload, blobStore);
    // 50 distinct strings, plus the array blob that holds their references.
    expect(ids.size).toBe(51);
    expect([...ids].sort()).toEqual((await listBlobs(blobStore)).sort());
  });

  it("streams an object too big for one JSON string as [key, value] entries", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const body = "y".repeat(20 * kb);
    const wide = Object.fromEntries(
      Array.from({ length: 2500 }, (_, index) => [`file${index}`, `${index}${body}`]),
    );
    const { payload, loaded } = await roundTrip(serializer, { wide });
    expect(payloadText(payload)).toContain(":o:");
    expect(loaded).toStrictEqual({ wide });
  });

  it("a streamed blob with one changed digit fails with ERR_LG_BLOB_CORRUPT, not wrong data", async () => {
    await withTempDir(async (dir) => {
      const serializer = new RedactingSerializer({ blobStore: createFsBlobStore({ dir }) });
      const samples = Array.from({ length: 5_000_000 }, (_, index) => index);
      const [type, payload] = await serializer.dumpsTyped({ samples });
      const id = /:a:([0-9a-f]{64})/.exec(payloadText(payload))![1]!;
      const path = join(dir, id.slice(0, 2), id.slice(2));
      const bytes = await readFile(path);
      const digit = bytes.indexOf("4999999");
      bytes[digit] = "5".charCodeAt(0); // still valid JSON, so only the hash can tell
      await writeFile(path, bytes);
      const reader = new RedactingSerializer({ blobStore: createFsBlobStore({ dir }) });
      await expect(reader.loadsTyped(type, payload)).rejects.toMatchObject({
        code: SerdeErrorCode.blobCorrupt,
      });
    });
  });

  describe("string cache retention", () => {
    const artifact = "cached artifact\n".repeat(30 * kb);

    it("LG_BLOB_CACHE_SIZE=0 keeps nothing alive: every dump hashes and writes again", async () => {
      const blobStore = countingStore(createMemoryBlobStore());
      const serializer = new RedactingSerializer({
        ...oneBlobPerString,
        blobStore,
        stringCacheBytes: 0,
      });
      await serializer.dumpsTyped({ artifact });
      await serializer.dumpsTyped({ artifact });
      expect(blobStore.writes()).toBe(2);
    });

    it("a string absent from the last 256 dumps is released", async () => {
      const blobStore = countingStore(createMemoryBlobStore());
      const serializer = new RedactingSerializer({ ...oneBlobPerString, blobStore });
      await serializer.dumpsTyped({ artifact });
      await serializer.dumpsTyped({ artifact });
      expect(blobStore.writes()).toBe(1);
      for (let step = 0; step < 300; step++) await serializer.dumpsTyped({ step });
      await serializer.dumpsTyped({ artifact });
      expect(blobStore.writes()).toBe(2);
    });

    it("stays under its size bound, least recently used first", async () => {
      const blobStore = countingStore(createMemoryBlobStore());
      const serializer = new RedactingSerializer({
        ...oneBlobPerString,
        blobStore,
        stringCacheBytes: 2 * mb,
      });
      const first = "1".repeat(mb);
      const second = "2".repeat(mb);
      const third = "3".repeat(mb);
      for (const text of [first, second, third]) await serializer.dumpsTyped({ text });
      expect(blobStore.writes()).toBe(3);
      await serializer.dumpsTyped({ text: third }); // still cached
      expect(blobStore.writes()).toBe(3);
      await serializer.dumpsTyped({ text: first }); // evicted by the third
      expect(blobStore.writes()).toBe(4);
    });
  });

  describe("values that cannot be stored raise a typed error and persist nothing", () => {
    const cycle: Record<string, unknown> = { name: "root" };
    cycle.self = { parent: cycle };
    const cases: [string, unknown][] = [
      ["a function", { big: "x".repeat(300 * kb), run: () => 1 }],
      ["a symbol", { big: "x".repeat(300 * kb), tag: Symbol("t") }],
      ["a bigint", { big: "x".repeat(300 * kb), count: 10n }],
      ["a cycle", { big: "x".repeat(300 * kb), cycle }],
      [
        "a cycle through an array",
        (() => {
          const items: unknown[] = ["y".repeat(300 * kb)];
          items.push({ items });
          return items;
        })(),
      ],
    ];
    for (const [name, value] of cases) {
      it(name, async () => {
        const blobStore = createMemoryBlobStore();
        const serializer = new RedactingSerializer({ blobStore });
        await expect(serializer.dumpsTyped(value)).rejects.toMatchObject({
          code: SerdeErrorCode.unserializable,
        });
        expect(await listBlobs(blobStore)).toEqual([]);
      });
    }

    it("a cycle deeper than maxDepth", async () => {
      const blobStore = createMemoryBlobStore();
      const serializer = new RedactingSerializer({ blobStore, maxDepth: 10 });
      const root: Record<string, unknown> = {};
      let node = root;
      for (let level = 0; level < 50; level++) node = node.child = {} as Record<string, unknown>;
      node.back = root;
      await expect(serializer.dumpsTyped(root)).rejects.toMatchObject({
        code: SerdeErrorCode.unserializable,
      });
      expect(await listBlobs(blobStore)).toEqual([]);
    });
  });

  describe("damaged payloads fail with a code, never with wrong data", () => {
    it("a malformed reference is rejected before any store access", async () => {
      const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
      const payload = JSON.stringify({ file: "\uE000lg:ref:s:../../etc/passwd" });
      await expect(serializer.loadsTyped("json", payload)).rejects.toMatchObject({
        code: SerdeErrorCode.payloadCorrupt,
      });
    });

    it("a reference to a missing blob", async () => {
      const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
      const payload = JSON.stringify({ file: formatReference("s", "a".repeat(64)) });
      await expect(serializer.loadsTyped("json", payload)).rejects.toMatchObject({
        code: SerdeErrorCode.blobMissing,
      });
    });
  });

  describe("options are validated at construction", () => {
    it.each([
      [{ maxStringBytes: 0 }, "maxStringBytes"],
      [{ maxPayloadBytes: 10 }, "maxPayloadBytes"],
      [{ maxArrayLength: 1.5 }, "maxArrayLength"],
      [{ blobStore: {} }, "blobStore"],
      [{ inner: { dumpsTyped: () => {} } }, "inner"],
      [{ maxStringByte: 10 }, "maxStringByte=10 is not an option"],
    ])("%j", (options, name) => {
      expect(() => new RedactingSerializer(options as never)).toThrowError(
        expect.objectContaining({
          code: SerdeErrorCode.invalidOption,
          message: expect.stringContaining(name),
        }),
      );
    });
  });
});
