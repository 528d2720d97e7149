import { isDeepStrictEqual } from "node:util";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { describe, expect, it } from "vitest";
import { fastLoadCounters } from "../src/fast-load/message-record.js";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";

function chatMessages(turns: number) {
  const messages = [];
  for (let turn = 0; turn < turns; turn++) {
    messages.push(new HumanMessage({ content: `question ${turn}`, id: `h${turn}` }));
    messages.push(
      new AIMessage({
        content: [{ type: "text", text: `answer ${turn}` }],
        id: `a${turn}`,
        tool_calls: [{ id: `call_${turn}`, name: "read_file", args: { path: `f${turn}.ts` } }],
        usage_metadata: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
      }),
    );
    messages.push(new ToolMessage({ content: "ok", tool_call_id: `call_${turn}` }));
  }
  return messages;
}

/** What the fast paths did while `run` ran (fastLoadCounters differences). */
async function counted<T>(run: () => Promise<T>) {
  const before = { ...fastLoadCounters };
  const value = await run();
  return {
    value,
    payloads: fastLoadCounters.payloads - before.payloads,
    messages: fastLoadCounters.messages - before.messages,
    stockSubtrees: fastLoadCounters.stockSubtrees - before.stockSubtrees,
  };
}

describe("message fast path", () => {
  const stock = new JsonPlusSerializer();

  it("loads a plain chat state without the stock reviver, equal to what stock loads", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const state = { messages: chatMessages(4), step: 3 };
    const expected = await stock.loadsTyped(...(await stock.dumpsTyped(state)));
    const loaded = await counted(async () =>
      serializer.loadsTyped(...(await serializer.dumpsTyped(state))),
    );
    expect(loaded.payloads).toBe(1);
    expect(loaded.messages).toBe(12);
    expect(loaded.value).toStrictEqual(expected);
    expect(isDeepStrictEqual(loaded.value, expected)).toBe(true);
    expect((loaded.value as any).messages[1]).toBeInstanceOf(AIMessage);
  });

  it("builds messages next to references in the same way (reference revival)", async () => {
    const serializer = new RedactingSerializer({
      blobStore: createMemoryBlobStore(),
      maxStringBytes: 8,
    });
    const state = chatMessages(2);
    const [type, payload] = await serializer.dumpsTyped(state);
    expect(Buffer.from(payload).toString()).toContain("\uE000lg:ref:");
    const loaded = await counted(() => serializer.loadsTyped(type, payload));
    expect(loaded.payloads).toBe(0);
    expect(loaded.messages).toBe(6);
    expect(loaded.value).toStrictEqual(await stock.loadsTyped(...(await stock.dumpsTyped(state))));
  });

  it("hands only the parts outside the subset to the stock reviver", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const states = [
      { messages: chatMessages(1), seen: new Set(["a"]), files: new Map([["a.ts", { bytes: 1 }]]) },
      { messages: chatMessages(1), missing: undefined },
      [
        new HumanMessage({ content: "x", additional_kwargs: { meta: { lc: 1 } } }),
        ...chatMessages(1),
      ],
    ];
    for (const state of states) {
      const expected = await stock.loadsTyped(...(await stock.dumpsTyped(state)));
      const loaded = await counted(async () =>
        serializer.loadsTyped(...(await serializer.dumpsTyped(state))),
      );
      expect(loaded.payloads).toBe(1);
      expect(loaded.stockSubtrees).toBeGreaterThan(0);
      expect(loaded.messages).toBe(3);
      expect(loaded.value).toStrictEqual(expected);
    }
  });

  it("hands the whole payload to stock when a part for stock holds -0 or is the root", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const message =
      '{"lc":1,"type":"constructor","id":["langchain_core","messages","HumanMessage"],"kwargs":{"content":"x"}}';
    const texts = [
      // Stock keeps -0 as a Map value; the Map's own JSON text would carry 0.
      `{"m":[${message}],"s":{"lc":2,"type":"constructor","id":["Map"],"method":null,"args":[[["k",-0]]],"kwargs":{}}}`,
      '{"lc":2,"type":"constructor","id":["Set"],"method":null,"args":[[1]],"kwargs":{}}',
    ];
    for (const text of texts) {
      const loaded = await counted(() => serializer.loadsTyped("json", text));
      expect(loaded.payloads).toBe(0);
      expect(isDeepStrictEqual(loaded.value, await stock.loadsTyped("json", text))).toBe(true);
    }
    const withMap = (await serializer.loadsTyped("json", texts[0]!)) as { s: Map<string, number> };
    expect(Object.is(withMap.s.get("k"), -0)).toBe(true);
  });

  it("leaves a subclassed or patched JsonPlusSerializer in charge of loading", async () => {
    class TaggingSerializer extends JsonPlusSerializer {
      override async loadsTyped(type: string, data: Uint8Array | string) {
        return { tagged: await super.loadsTyped(type, data) };
      }
    }
    const patched = new JsonPlusSerializer();
    patched.loadsTyped = async () => "patched";
    const payload = (await stock.dumpsTyped(chatMessages(1)))[1];
    const viaSubclass = new RedactingSerializer({
      blobStore: createMemoryBlobStore(),
      inner: new TaggingSerializer(),
    });
    const viaPatched = new RedactingSerializer({
      blobStore: createMemoryBlobStore(),
      inner: patched,
    });
    const loaded = await counted(() => viaSubclass.loadsTyped("json", payload));
    expect(loaded.payloads).toBe(0);
    expect(loaded.value).toHaveProperty("tagged");
    expect(await viaPatched.loadsTyped("json", payload)).toBe("patched");
  });

  it("fails like stock on what stock rejects (bad JSON, depth past load()'s limit)", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const record = (kwargs: string) =>
      `[{"lc":1,"type":"constructor","id":["langchain_core","messages","HumanMessage"],"kwargs":${kwargs}}]`;
    // kwargs is depth 1, "deep" depth 2: 48 arrays put the leaf at 50 (allowed), 49 at 51.
    const allowed = record(`{"content":"x","deep":${"[".repeat(48)}1${"]".repeat(48)}}`);
    const tooDeep = record(`{"content":"x","deep":${"[".repeat(49)}1${"]".repeat(49)}}`);
    const loaded = await counted(() => serializer.loadsTyped("json", allowed));
    expect(loaded.payloads).toBe(1);
    expect(loaded.value).toStrictEqual(await stock.loadsTyped("json", allowed));
    for (const text of [tooDeep, "[{", '{"a":1}x']) {
      const stockError = await stock
        .loadsTyped("json", text)
        .catch((error: Error) => error.message);
      expect(stockError).toEqual(expect.any(String));
      await expect(serializer.loadsTyped("json", text)).rejects.toThrow(stockError as string);
    }
  });

  it("turns -0 into 0 inside messages only, as stock's re-stringify does", async () => {
    const serializer = new RedactingSerializer({ blobStore: createMemoryBlobStore() });
    const text =
      '{"score":-0,"messages":[{"lc":1,"type":"constructor","id":["langchain_core","messages","HumanMessage"],"kwargs":{"content":"x","additional_kwargs":{"score":-0}}}]}';
    const loaded = (await serializer.loadsTyped("json", text)) as any;
    expect(Object.is(loaded.score, -0)).toBe(true);
    expect(Object.is(loaded.messages[0].additional_kwargs.score, 0)).toBe(true);
    expect(isDeepStrictEqual(loaded, await stock.loadsTyped("json", text))).toBe(true);
  });
});
