import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { createMemoryBlobStore, RedactingSerializer } from "@leangraph/serde";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitJsonArray } from "../src/codec/json-array-split.js";
import { defaultValueCodecOptions, type NewItem, ValueCodec } from "../src/codec/value-codec.js";

function memoryReader(items: Map<string, NewItem>) {
  return {
    async readItems(ids: readonly string[]) {
      return new Map(ids.map((id) => [id, items.get(id)!.bytes] as const));
    },
  };
}

/** Small thresholds so short generated arrays exercise inline entries, items and inner nodes. */
const tinyTree = {
  ...defaultValueCodecOptions,
  inlineElementMaxBytes: 16,
  inlineValueMaxBytes: 8,
  tree: { maxLeafEntries: 3, maxLeafBytes: 64, maxInnerChildren: 2 },
};

describe("splitJsonArray", () => {
  it("cuts an array's JSON into exactly the JSON of each element", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), (array) => {
        const bytes = Buffer.from(JSON.stringify(array));
        const parts = splitJsonArray(bytes, array.length);
        expect(parts?.map((part) => Buffer.from(part).toString())).toEqual(
          array.map((value) => JSON.stringify(value)),
        );
      }),
    );
  });

  it("refuses what is not an array of the expected length", () => {
    expect(splitJsonArray(Buffer.from('"[1,2]"'), 2)).toBeUndefined();
    expect(splitJsonArray(Buffer.from("[1,2]"), 3)).toBeUndefined();
  });
});

describe("ValueCodec", () => {
  for (const [name, serde] of [
    ["JsonPlusSerializer", new JsonPlusSerializer()],
    [
      "RedactingSerializer",
      new RedactingSerializer({ blobStore: createMemoryBlobStore(), maxStringBytes: 64 }),
    ],
  ] as const) {
    it(`round-trips any JSON value exactly as the serializer alone does (${name})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (value) => {
          const codec = new ValueCodec(serde, tinyTree);
          const encoded = await codec.encode(value, "channel");
          const items = new Map(encoded.items.map((item) => [item.id, item]));
          const [type, payload] = await serde.dumpsTyped(value);
          expect(await codec.decode(encoded.ref, memoryReader(items))).toEqual(
            await serde.loadsTyped(type, payload),
          );
        }),
        { numRuns: 150 },
      );
    });
  }

  it("round-trips LangChain messages, holes and nested arrays", async () => {
    const serde = new JsonPlusSerializer();
    const codec = new ValueCodec(serde, tinyTree);
    const value = [
      new HumanMessage("hi"),
      undefined,
      [1, [2, "three"]],
      new AIMessage({ content: "x".repeat(40), id: "a" }),
    ];
    const encoded = await codec.encode(value);
    const decoded = (await codec.decode(
      encoded.ref,
      memoryReader(new Map(encoded.items.map((i) => [i.id, i]))),
    )) as unknown[];
    expect(decoded).toEqual([new HumanMessage("hi"), null, [1, [2, "three"]], value[3]]);
  });

  it("appending rewrites only the open tail, never the closed prefix", async () => {
    const codec = new ValueCodec(new JsonPlusSerializer(), tinyTree);
    const array = Array.from(
      { length: 40 },
      (_, index) => `element ${index} ${"y".repeat(index % 7)}`,
    );
    const before = await codec.encode(array, "channel");
    const after = await codec.encode([...array, "appended"], "channel");
    const beforeIds = new Set(before.items.map((item) => item.id));
    const fresh = after.items.filter((item) => !beforeIds.has(item.id));
    // One new element item at most, plus the tail leaf and the path of inner nodes above it.
    expect(fresh.length).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(40)));
    expect(fresh.reduce((sum, item) => sum + item.bytes.byteLength, 0)).toBeLessThan(400);
  });
});
