import { JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMemoryBlobStore, RedactingSerializer, textLoadsAsItself } from "../src/index.js";

/** Strings at the edges: a leading byte-order mark, our reserved prefix, escapes, astral text. */
const edgeStrings = [
  "",
  "\uFEFFstarts with a byte-order mark",
  "\uE000lg:ref:s:" + "0".repeat(64),
  "\uE000lg:esc:looks escaped",
  "\uE000 private use, but not ours",
  'quotes " and \\ backslashes and \n newlines',
  "astral 😀 and combining é",
];

class ShoutingSerializer extends JsonPlusSerializer {
  override async loadsTyped(type: string, data: Uint8Array | string) {
    const value = await super.loadsTyped(type, data);
    return typeof value === "string" ? value.toUpperCase() : value;
  }
}

const utf8 = (text: string) => Buffer.from(JSON.stringify(text), "utf8");

describe("textLoadsAsItself", () => {
  const known: [string, SerializerProtocol][] = [
    ["JsonPlusSerializer", new JsonPlusSerializer()],
    [
      "RedactingSerializer over it",
      new RedactingSerializer({ blobStore: createMemoryBlobStore(), maxStringBytes: 64 }),
    ],
  ];
  for (const [name, serde] of known) {
    it(`says yes only where ${name} really loads the string as itself`, async () => {
      const loadsAsItself = textLoadsAsItself(serde);
      if (loadsAsItself === undefined) throw new Error(`${name} should be known`);
      const check = async (text: string) => {
        if (!loadsAsItself(text)) return;
        expect(await serde.loadsTyped("json", utf8(text))).toBe(text);
      };
      for (const text of edgeStrings) await check(text);
      await fc.assert(fc.asyncProperty(fc.string({ unit: "binary" }), check), { numRuns: 300 });
      expect(loadsAsItself("plain text")).toBe(true);
      // Ours to resolve, never handed over as text.
      expect(loadsAsItself("\uE000lg:esc:looks escaped")).toBe(false);
    });
  }

  it("says no for any other serializer: a subclass, or a RedactingSerializer over one", () => {
    const shouting = new ShoutingSerializer();
    const over = new RedactingSerializer({ blobStore: createMemoryBlobStore(), inner: shouting });
    for (const serde of [shouting, over]) expect(textLoadsAsItself(serde)).toBeUndefined();
  });
});
