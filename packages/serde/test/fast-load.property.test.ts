/**
 * The synchronous message fast path must be invisible: whatever messages a chat state holds,
 * RedactingSerializer loads exactly what JsonPlusSerializer loads (same classes, same own
 * properties, -0 and odd kwargs keys included), whether the payload is covered, falls back to
 * the stock reviver, or holds references.
 */
import { isDeepStrictEqual } from "node:util";
import { load } from "@langchain/core/load";
import {
  AIMessage,
  AIMessageChunk,
  ChatMessage,
  ChatMessageChunk,
  FunctionMessage,
  FunctionMessageChunk,
  HumanMessage,
  HumanMessageChunk,
  RemoveMessage,
  SystemMessage,
  SystemMessageChunk,
  ToolMessage,
  ToolMessageChunk,
} from "@langchain/core/messages";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fastLoadCounters, reviveMessageRecord } from "../src/fast-load/message-record.js";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";

/** Keys that exercise core's key mapping (aliases, camelCase, inherited names) and its escapes. */
const oddKey = fc.constantFrom(
  "lc",
  "__lc_escaped__",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "tool_calls",
  "tool_call_id",
  "additional_kwargs",
  "snake_case_key",
  "kebab-case-key",
  "key with spaces",
  "  padded_key ",
  "Mixed_CASE-key",
  "alreadyCamel",
  "_leading",
  "trailing_",
  "a__b",
  "a_-_b",
  "x_1y",
  "-",
  "_",
  "",
  "0",
  "12",
  "type",
  "id",
);
const key = fc.oneof(oddKey, fc.string({ maxLength: 10 }));
/**
 * Keys for data inside kwargs. Not "constructor": vitest's toStrictEqual compares
 * `a.constructor === b.constructor`, so two equal objects holding `constructor: {}` differ there
 * (top-level kwargs keys are mapped, so it is covered by the record-level property). Not
 * "__proto__": stock turns an object under it into a new prototype per load, never equal to
 * another; `payloadTree` has it with scalar values.
 */
const dataKey = fc.oneof(
  oddKey.filter((name) => name !== "constructor" && name !== "__proto__"),
  fc.string({ maxLength: 10 }),
);

/** Lone surrogates ("binary" units), emoji, and plain ASCII. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ maxLength: 40 }),
);

const jsonScalar = fc.oneof(
  text,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant(-0),
  fc.boolean(),
  fc.constant(null),
);

/** Plain JSON that sometimes holds `lc` keys or `__lc_escaped__` wrappers, as user data may. */
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonScalar,
    fc.array(tie("json"), { maxLength: 5 }),
    fc.dictionary(dataKey, tie("json"), { maxKeys: 5, noNullPrototype: true }),
    tie("json").map((value) => ({ __lc_escaped__: value })),
    tie("json").map((value) => ({ lc: 1, type: "constructor", id: ["x"], kwargs: value })),
  ),
}));
/** Mostly data without special keys, so most messages stay on the fast path. */
const { plainJson } = fc.letrec((tie) => ({
  plainJson: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonScalar,
    fc.array(tie("plainJson"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie("plainJson"), {
      maxKeys: 5,
      noNullPrototype: true,
    }),
  ),
}));
const userData = fc.oneof({ weight: 4, arbitrary: plainJson }, { weight: 1, arbitrary: json });
const userObject = fc.dictionary(dataKey, userData, { maxKeys: 4, noNullPrototype: true });

const contentBlock = fc.oneof(
  fc.record({ type: fc.constant("text"), text }),
  fc.record({
    type: fc.constant("image_url"),
    image_url: fc.record({ url: fc.webUrl(), detail: fc.constantFrom("auto", "low") }),
  }),
  fc.record({
    type: fc.constant("tool_use"),
    id: text,
    name: text,
    input: userObject,
  }),
  userObject,
);
const content = fc.oneof(text, fc.array(contentBlock, { maxLength: 4 }));

const toolCall = fc.record(
  {
    id: text,
    name: text,
    args: userObject,
    type: fc.constant("tool_call" as const),
  },
  { requiredKeys: ["name", "args"] },
);
const invalidToolCall = fc.record(
  {
    id: text,
    name: text,
    args: text,
    error: text,
    type: fc.constant("invalid_tool_call" as const),
  },
  { requiredKeys: [] },
);
const toolCallChunk = fc.record(
  {
    id: text,
    name: text,
    args: fc.oneof(text, fc.constant('{"path": "a.ts"}')),
    index: fc.nat(3),
    type: fc.constant("tool_call_chunk" as const),
  },
  { requiredKeys: [] },
);
const usageMetadata = fc.record(
  {
    input_tokens: fc.nat(),
    output_tokens: fc.nat(),
    total_tokens: fc.nat(),
    input_token_details: fc.record({ cache_read: fc.nat() }, { requiredKeys: [] }),
  },
  { requiredKeys: ["input_tokens", "output_tokens", "total_tokens"] },
);

/**
 * toJSON reads each kwarg back from the instance, so a kwarg named like a method ("toString")
 * would serialize a function. The record-level property below covers those names against load().
 */
const extraKey = oddKey.filter((name) => !(name in Object.prototype));

/** Fields every message accepts, plus extra kwargs under odd keys (core maps those on load). */
const baseFields = fc.record(
  {
    content,
    name: text,
    id: text,
    additional_kwargs: userObject,
    response_metadata: userObject,
    extra: fc.dictionary(extraKey, userData, { maxKeys: 2, noNullPrototype: true }),
  },
  { requiredKeys: ["content"] },
);

function fieldsOf({
  extra,
  ...fields
}: {
  extra?: Record<string, unknown>;
  [field: string]: unknown;
}) {
  // Extra kwargs must not replace the fields the generator typed (content, tool_calls, …).
  return { ...extra, ...fields } as any;
}

const aiFields = fc.record(
  {
    tool_calls: fc.array(toolCall, { maxLength: 3 }),
    invalid_tool_calls: fc.array(invalidToolCall, { maxLength: 2 }),
    usage_metadata: usageMetadata,
  },
  { requiredKeys: [] },
);

const message = fc.oneof(
  baseFields.map((fields) => new HumanMessage(fieldsOf(fields))),
  baseFields.map((fields) => new HumanMessageChunk(fieldsOf(fields))),
  baseFields.map((fields) => new SystemMessage(fieldsOf(fields))),
  baseFields.map((fields) => new SystemMessageChunk(fieldsOf(fields))),
  fc
    .tuple(baseFields, aiFields)
    .map(([fields, ai]) => new AIMessage(fieldsOf({ ...fields, ...ai }))),
  fc
    .tuple(baseFields, aiFields, fc.array(toolCallChunk, { maxLength: 2 }))
    .map(
      ([fields, ai, chunks]) =>
        new AIMessageChunk(
          fieldsOf(
            chunks.length > 0 ? { ...fields, tool_call_chunks: chunks } : { ...fields, ...ai },
          ),
        ),
    ),
  fc
    .tuple(baseFields, text, fc.constantFrom("success", "error"), userData)
    .map(
      ([fields, callId, status, artifact]) =>
        new ToolMessage(fieldsOf({ ...fields, tool_call_id: callId, status, artifact })),
    ),
  fc
    .tuple(baseFields, text)
    .map(([fields, callId]) => new ToolMessageChunk(fieldsOf({ ...fields, tool_call_id: callId }))),
  fc
    .tuple(baseFields, text)
    .map(([fields, name]) => new FunctionMessage(fieldsOf({ ...fields, name }))),
  fc
    .tuple(baseFields, text)
    .map(([fields, name]) => new FunctionMessageChunk(fieldsOf({ ...fields, name }))),
  fc
    .tuple(baseFields, text)
    .map(([fields, role]) => new ChatMessage(fieldsOf({ ...fields, role }))),
  fc
    .tuple(baseFields, text)
    .map(([fields, role]) => new ChatMessageChunk(fieldsOf({ ...fields, role }))),
  text.map((id) => new RemoveMessage({ id })),
);

/** Chat states as a saver hands them over: a message list, or messages among plain channels. */
const chatState = fc.oneof(
  fc.array(message, { maxLength: 6 }),
  fc.record({
    messages: fc.array(message, { maxLength: 6 }),
    summary: plainJson,
    nested: fc.array(fc.record({ last: message, note: text }), { maxLength: 2 }),
  }),
);

function expectSameAsStock(actual: unknown, expected: unknown) {
  expect(actual).toStrictEqual(expected);
  // Also -0 vs 0 and prototypes at every level, independently of vitest's equality.
  expect(isDeepStrictEqual(actual, expected)).toBe(true);
}

type Outcome = { value: unknown } | { error: string };

async function outcomeOf(loading: Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await loading };
  } catch (error) {
    return { error: String((error as Error)?.message ?? error) };
  }
}

/**
 * Same value, or a failure: stock revives `lc` records even inside `__lc_escaped__` user data, so
 * some generated states fail to load on the stock path, and must fail on ours. With several bad
 * records, which error wins depends on the order promises settle, which reference revival
 * (reads in parallel) does not share with stock, hence `anyError` there.
 */
function expectSameOutcome(actual: Outcome, expected: Outcome, anyError = false) {
  if ("error" in expected && anyError) expect(actual).toHaveProperty("error");
  else if ("error" in expected) expect(actual).toStrictEqual(expected);
  else if ("error" in actual) expect.fail(`stock loads this state, ours threw: ${actual.error}`);
  else expectSameAsStock(actual.value, expected.value);
}

/**
 * JSON text that keeps `-0`: neither serializer writes it, but a payload may hold it, and stock
 * keeps it outside messages while load()'s JSON.stringify turns it into 0 inside them.
 */
function payloadText(tree: unknown): string {
  const negativeZero = "\u0000negative zero\u0000";
  return JSON.stringify(tree, (_, value) =>
    Object.is(value, -0) ? negativeZero : value,
  ).replaceAll(JSON.stringify(negativeZero), "-0");
}

function nestedArrays(depth: number, leaf: unknown): unknown {
  let node = leaf;
  for (let level = 0; level < depth; level++) node = [node];
  return node;
}

const messageName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "HumanMessage",
      "AIMessage",
      "AIMessageChunk",
      "ToolMessage",
      "SystemMessage",
      "RemoveMessage",
    ),
  },
  fc.constantFrom("BaseMessage", "BaseMessageChunk", "isAIMessage", "constructor", "NoSuchMessage"),
);

/**
 * Payload trees as a reader may find them, not only as a serializer writes them: message records
 * with odd ids and kwargs, `-0`, own `__proto__` keys, `lc:2` records, kwargs nested right around
 * load()'s depth limit of 50.
 */
const { payloadTree, record: messageRecord } = fc.letrec((tie) => ({
  payloadTree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 3, arbitrary: jsonScalar },
    fc.array(tie("payloadTree"), { maxLength: 4 }),
    fc.dictionary(dataKey, tie("payloadTree"), { maxKeys: 4, noNullPrototype: true }),
    // Scalars only: with an object value each load gets a new prototype, so no two are equal.
    fc
      .tuple(jsonScalar, tie("payloadTree"))
      .map(([scalar, sibling]) =>
        JSON.parse(`{"__proto__":${payloadText(scalar)},"x":${payloadText(sibling)}}`),
      ),
    { weight: 3, arbitrary: tie("record") },
    fc.constantFrom(
      { lc: 2, type: "undefined" },
      { lc: 2, type: "constructor", id: ["Set"], method: null, args: [[1, 2]], kwargs: {} },
      { lc: 1, type: "secret", id: ["OPENAI_API_KEY"] },
    ),
  ),
  record: fc
    .record(
      {
        id: fc.oneof(
          { weight: 8, arbitrary: messageName.map((name) => ["langchain_core", "messages", name]) },
          messageName.map((name) => ["langchain_core", "messages", "human", name]),
          messageName.map((name) => ["langchain", "messages", name]),
        ),
        kwargs: tie("kwargs"),
        extra: fc.oneof(
          { weight: 9, arbitrary: fc.constant(null) },
          fc.constant("an extra record key"),
        ),
      },
      { noNullPrototype: true },
    )
    .map(({ id, kwargs, extra }) => ({
      lc: 1,
      type: "constructor",
      id,
      kwargs,
      ...(extra === null ? {} : { extra }),
    })),
  kwargs: fc
    .tuple(
      fc.oneof(text, fc.array(contentBlock, { maxLength: 2 })),
      fc.dictionary(key, fc.oneof({ weight: 4, arbitrary: plainJson }, tie("payloadTree")), {
        maxKeys: 3,
        noNullPrototype: true,
      }),
      fc.oneof(
        { weight: 2, arbitrary: fc.constant(null) },
        // kwargs is depth 1 and "deep" depth 2, so the leaf sits at 48 to 53; past 50 load() throws.
        fc
          .tuple(fc.integer({ min: 46, max: 51 }), jsonScalar)
          .map(([depth, leaf]) => ({ deep: nestedArrays(depth, leaf) })),
      ),
    )
    .map(([content, extra, deep]) => ({
      content,
      tool_call_id: "call_1",
      role: "user",
      id: "m1",
      ...extra,
      ...deep,
    })),
})) as { payloadTree: fc.Arbitrary<unknown>; record: fc.Arbitrary<unknown> };
/** Half of them message lists, as a saver's array reads hand them over. */
const handWrittenPayload = fc.oneof(
  payloadTree,
  fc.array(messageRecord, { minLength: 1, maxLength: 3 }),
);

describe("message fast path (fast-check)", () => {
  // AIMessage warns about raw `additional_kwargs.tool_calls`, which the generators produce.
  beforeAll(() => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });
  const stock = new JsonPlusSerializer();
  const ours = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
  // Small strings go to blobs, so messages are revived next to references (revive-value.ts).
  const withReferences = new RedactingSerializer({
    blobStore: createMemoryBlobStore(),
    maxStringBytes: 24,
    maxArrayLength: 3,
  });

  it("loads chat states exactly as JsonPlusSerializer does, covered or not", async () => {
    const payloadsBefore = fastLoadCounters.payloads;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(chatState, async (state) => {
        runs += 1;
        const [stockType, stockPayload] = await stock.dumpsTyped(state);
        const expected = await outcomeOf(stock.loadsTyped(stockType, stockPayload));
        const load = async (serializer: RedactingSerializer) =>
          outcomeOf(serializer.loadsTyped(...(await serializer.dumpsTyped(state))));
        expectSameOutcome(await load(ours), expected);
        expectSameOutcome(await outcomeOf(ours.loadsTyped(stockType, stockPayload)), expected);
        expectSameOutcome(await load(withReferences), expected, true);
      }),
      { numRuns: 400 },
    );
    // Both sides are exercised: many payloads take the fast path, and some fall back.
    const fast = fastLoadCounters.payloads - payloadsBefore;
    expect(fast).toBeGreaterThan(runs / 4);
    expect(fast).toBeLessThan(runs * 2);
  });

  it("reads hand-written payloads exactly as JsonPlusSerializer does", async () => {
    const payloadsBefore = fastLoadCounters.payloads;
    const messagesBefore = fastLoadCounters.messages;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(handWrittenPayload, async (tree) => {
        runs += 1;
        const text = payloadText(tree);
        const expected = await outcomeOf(stock.loadsTyped("json", text));
        expectSameOutcome(await outcomeOf(ours.loadsTyped("json", text)), expected);
        expectSameOutcome(
          await outcomeOf(ours.loadsTyped("json", Buffer.from(text, "utf8"))),
          expected,
        );
      }),
      { numRuns: 600 },
    );
    expect(fastLoadCounters.payloads - payloadsBefore).toBeGreaterThan(runs / 5);
    expect(fastLoadCounters.messages - messagesBefore).toBeGreaterThan(runs / 5);
  });

  it("builds a record exactly as load() does, for any kwargs key and every message class", async () => {
    const names = [
      "HumanMessage",
      "AIMessage",
      "AIMessageChunk",
      "SystemMessage",
      "ToolMessage",
      "FunctionMessage",
      "ChatMessage",
      "RemoveMessage",
      "HumanMessageChunk",
      "ChatMessageChunk",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.dictionary(key, plainJson, { maxKeys: 4, noNullPrototype: true }),
        async (name, extra) => {
          const kwargs = { content: "x", tool_call_id: "t", role: "r", id: "m", ...extra };
          const text = JSON.stringify({
            lc: 1,
            type: "constructor",
            id: ["langchain_core", "messages", name],
            kwargs,
          });
          let expected: unknown;
          let failure: unknown;
          try {
            expected = await load(text);
          } catch (error) {
            failure = error;
          }
          const record = JSON.parse(text);
          let fast: unknown;
          try {
            fast = reviveMessageRecord(record);
          } catch (error) {
            // A constructor that rejects its fields rejects them on both paths.
            expect(failure).toBeDefined();
            expect((error as Error).message).toBe((failure as Error).message);
            return;
          }
          if (fast === undefined) return;
          expect(failure).toBeUndefined();
          expectSameAsStock(fast, expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
