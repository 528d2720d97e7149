import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { Send } from "@langchain/langgraph";
import { DeltaSnapshot, JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";

// Tiny thresholds so that every generated value crosses some of them: strings, arrays, objects,
// nesting depth and the payload budget all externalize, recursively.
const tinyLimits = {
  maxStringBytes: 16,
  maxArrayLength: 4,
  maxObjectKeys: 4,
  maxPayloadBytes: 512,
  maxDepth: 3,
};

const reservedLookAlike = fc
  .tuple(
    fc.constantFrom(
      "\uE000lg:",
      "\uE000lg:ref:s:",
      "\uE000lg:esc:",
      `\uE000lg:ref:j:${"a".repeat(64)}`,
      `\uE000lg:ref:s:${"0".repeat(64)}`,
    ),
    fc.string({ maxLength: 40 }),
  )
  .map(([prefix, rest]) => prefix + rest);

/** Includes lone surrogates ("binary" units), emoji, and strings on both sides of 16 bytes. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary-ascii", minLength: 10, maxLength: 200 }),
  reservedLookAlike,
);

// "__proto__" is left out: the stock reviver assigns it as a prototype, which we mirror on purpose.
const key = fc.string({ maxLength: 12 }).filter((name) => name !== "__proto__");

const message = fc.oneof(
  text.map((content) => new HumanMessage(content)),
  fc
    .record({
      content: text,
      calls: fc.array(
        fc.record({
          name: fc.string({ minLength: 1, maxLength: 8 }),
          args: fc.dictionary(key, text, { maxKeys: 6, noNullPrototype: true }),
        }),
        {
          maxLength: 3,
        },
      ),
    })
    .map(
      ({ content, calls }) =>
        new AIMessage({
          content,
          tool_calls: calls.map((call, index) => ({
            id: `call_${index}`,
            type: "tool_call" as const,
            ...call,
          })),
        }),
    ),
  fc
    .tuple(text, fc.string({ minLength: 1, maxLength: 8 }))
    .map(([content, id]) => new ToolMessage({ content, tool_call_id: id })),
);

const leaf = fc.oneof(
  text,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(/a+b/gi, /^\s*$/m, /x/),
  text.map((message) => new Error(message)),
);

const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    message,
    fc.array(tie("value"), { maxLength: 8 }),
    fc.dictionary(key, tie("value"), { maxKeys: 8, noNullPrototype: true }),
    fc
      .array(fc.tuple(fc.oneof(text, fc.integer()), tie("value")), { maxLength: 6 })
      .map((entries) => new Map(entries)),
    fc.array(fc.oneof(text, fc.integer()), { maxLength: 8 }).map((items) => new Set(items)),
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 8 }), tie("value"))
      .map(([node, args]) => new Send(node, args)),
    tie("value").map((inner) => new DeltaSnapshot(inner)),
  ),
}));

const plainJson = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    text,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("node"), { maxLength: 8 }),
    fc.dictionary(key, tie("node"), { maxKeys: 8, noNullPrototype: true }),
  ),
})).node;

describe("RedactingSerializer round trip (fast-check)", () => {
  const stock = new JsonPlusSerializer();
  const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore(), ...tinyLimits });

  it("loads exactly what JsonPlusSerializer loads, for arbitrary values above every threshold", async () => {
    let withReferences = 0;
    await fc.assert(
      fc.asyncProperty(value, async (input) => {
        const [type, payload] = await serializer.dumpsTyped(input);
        if (Buffer.from(payload).includes("\uE000lg:ref:")) withReferences += 1;
        expect(payload.byteLength).toBeLessThanOrEqual(tinyLimits.maxPayloadBytes);
        const [stockType, stockPayload] = await stock.dumpsTyped(input);
        const expected = await stock.loadsTyped(stockType, stockPayload);
        expect(await serializer.loadsTyped(type, payload)).toStrictEqual(expected);
      }),
      { numRuns: 300 },
    );
    // The thresholds are tiny on purpose: most runs must go through blobs, not the fast path.
    expect(withReferences).toBeGreaterThan(150);
  });

  it("returns plain JSON data unchanged, look-alike references and lone surrogates included", async () => {
    await fc.assert(
      fc.asyncProperty(plainJson, async (input) => {
        const [type, payload] = await serializer.dumpsTyped(input);
        expect(type).toBe("json");
        expect(payload.byteLength).toBeLessThanOrEqual(tinyLimits.maxPayloadBytes);
        expect(await serializer.loadsTyped(type, payload)).toStrictEqual(input);
      }),
      { numRuns: 300 },
    );
  });

  it("with default limits writes byte-for-byte the payload JsonPlusSerializer writes", async () => {
    const roomy = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    await fc.assert(
      fc.asyncProperty(value, async (input) => {
        const theirs = await stock.dumpsTyped(input);
        // Look-alike strings are the one place we differ on purpose: they are escaped.
        fc.pre(!Buffer.from(theirs[1]).toString().includes("\uE000lg:"));
        const ours = await roomy.dumpsTyped(input);
        expect(ours[0]).toBe(theirs[0]);
        expect(Buffer.from(ours[1]).toString()).toBe(Buffer.from(theirs[1]).toString());
      }),
      { numRuns: 200 },
    );
  });
});
