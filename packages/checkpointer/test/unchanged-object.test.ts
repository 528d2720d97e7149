import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  ChatMessage,
  FunctionMessage,
  HumanMessage,
  HumanMessageChunk,
  RemoveMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { type Checkpoint, JsonPlusSerializer, uuid6 } from "@langchain/langgraph-checkpoint";
import { createMemoryBlobStore, RedactingSerializer } from "@leangraph/serde";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchesSnapshot, snapshotObject } from "../src/codec/unchanged-object.js";
import { LeanSqliteSaver } from "../src/sqlite.js";

function aiMessage(index: number): AIMessage {
  return new AIMessage({
    content: `answer ${index}`,
    id: `a${index}`,
    tool_calls: [{ name: "lookup", args: { query: `q${index}`, tags: ["x"] }, id: `c${index}` }],
    additional_kwargs: { nested: { level: [1, 2, { deep: "yes" }] } },
  });
}

describe("snapshotObject / matchesSnapshot", () => {
  it("matches a message nobody touched", () => {
    const message = aiMessage(1);
    const snapshot = snapshotObject(message)!;
    expect(snapshot).toBeDefined();
    expect(matchesSnapshot(message, snapshot)).toBe(true);
  });

  const mutations: [string, (message: AIMessage) => void][] = [
    ["content replaced", (m) => (m.content = "changed")],
    ["content becomes blocks", (m) => (m.content = [{ type: "text", text: "answer 1" }])],
    ["tool call args edited", (m) => ((m.tool_calls![0]!.args as { query: string }).query = "z")],
    ["tool call added", (m) => m.tool_calls!.push({ name: "f", args: {}, id: "c9" })],
    [
      "deep additional_kwargs edited",
      (m) => (((m.additional_kwargs.nested as { level: unknown[] }).level[2] as object) = {}),
    ],
    ["lc_kwargs edited", (m) => (m.lc_kwargs.content = "other")],
    ["key deleted", (m) => delete (m as { name?: string }).name],
    ["key added", (m) => ((m as unknown as Record<string, unknown>).extra = 1)],
    [
      "key order changed",
      (m) => {
        const { id } = m;
        delete (m as { id?: string }).id;
        m.id = id;
      },
    ],
    ["class changed", (m) => Object.setPrototypeOf(m, HumanMessage.prototype)],
    ["NaN stored (JSON writes null)", (m) => (m.additional_kwargs.n = Number.NaN)],
  ];
  it.each(mutations)("does not match after: %s", (_label, mutate) => {
    const message = aiMessage(1);
    const snapshot = snapshotObject(message)!;
    mutate(message);
    expect(matchesSnapshot(message, snapshot)).toBe(false);
  });

  it("refuses elements whose serialized form could depend on state it cannot compare", () => {
    class CustomMessage extends AIMessage {}
    const ineligible: object[] = [
      new CustomMessage({ content: "subclass may override getters" }),
      new AIMessage({ content: "x", additional_kwargs: { when: new Date(0) } }),
      new AIMessage({ content: "x", additional_kwargs: { map: new Map() } }),
      { inner: new HumanMessage("nested instance") },
      { fn: () => 1 },
      new Date(0),
      { deep: JSON.parse(`${"[".repeat(100)}${"]".repeat(100)}`) },
      { wide: Array.from({ length: 5000 }, (_, index) => ({ index })) },
    ];
    for (const element of ineligible) expect(snapshotObject(element)).toBeUndefined();
  });

  it("accepts plain data and every stock message class", () => {
    for (const element of [
      { a: [1, "two", null, true, { b: undefined }] },
      [1, [2, [3]]],
      Object.create(null) as object,
      new SystemMessage("s"),
      new ToolMessage({ content: "r", tool_call_id: "c1" }),
      new AIMessageChunk({ content: "partial" }),
      new HumanMessageChunk({ content: "partial" }),
      new ChatMessage({ content: "c", role: "critic" }),
      new FunctionMessage({ content: "f", name: "lookup" }),
      new RemoveMessage({ id: "m1" }),
    ])
      expect(snapshotObject(element)).toBeDefined();
  });
});

/**
 * The saver reuses the stored entry of a message that still matches its snapshot. Whatever the
 * caller does to its messages between puts, what comes back must be what the stock serializer
 * would have stored for the state at that put.
 */
describe("LeanSqliteSaver with a chat state mutated between puts", () => {
  type Operation =
    | { kind: "append"; text: string }
    | { kind: "editContent"; at: number; text: string }
    | { kind: "editNested"; at: number; value: number }
    | { kind: "replaceWithCopy"; at: number }
    | { kind: "remove"; at: number };
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    fc.record({ kind: fc.constant("append" as const), text: fc.string() }),
    fc.record({ kind: fc.constant("editContent" as const), at: fc.nat(), text: fc.string() }),
    fc.record({ kind: fc.constant("editNested" as const), at: fc.nat(), value: fc.integer() }),
    fc.record({ kind: fc.constant("replaceWithCopy" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
  );

  function apply(messages: BaseMessage[], op: Operation, counter: { next: number }): void {
    const at = messages.length === 0 ? -1 : "at" in op ? op.at % messages.length : -1;
    switch (op.kind) {
      case "append":
        messages.push(
          counter.next % 2 === 0
            ? new HumanMessage({ content: op.text, id: `m${counter.next}` })
            : new AIMessage({
                content: op.text,
                id: `m${counter.next}`,
                additional_kwargs: { meta: { n: counter.next } },
              }),
        );
        counter.next += 1;
        return;
      case "editContent":
        if (at >= 0) messages[at]!.content = op.text;
        return;
      case "editNested":
        if (at >= 0) messages[at]!.additional_kwargs.meta = { n: op.value };
        return;
      case "replaceWithCopy":
        if (at >= 0) {
          const original = messages[at]!;
          const Copy = original.constructor as new (fields: unknown) => BaseMessage;
          messages[at] = new Copy({ ...original.lc_kwargs, content: original.content });
        }
        return;
      case "remove":
        if (at >= 0) messages.splice(at, 1);
        return;
    }
  }

  it("returns exactly the stock round trip of the current state at every put", async () => {
    const stock = new JsonPlusSerializer();
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (ops) => {
        const saver = LeanSqliteSaver.fromConnString(":memory:", {
          serde: new RedactingSerializer({ blobStore: createMemoryBlobStore() }),
          // Tiny leaves so edits land in closed leaves, open leaves and inner nodes alike.
          codec: {
            inlineElementMaxBytes: 64,
            tree: { maxLeafEntries: 3, maxLeafBytes: 256, maxInnerChildren: 2 },
          },
        });
        const messages: BaseMessage[] = [];
        const counter = { next: 0 };
        let parent = { configurable: { thread_id: "chat", checkpoint_ns: "" } } as {
          configurable: Record<string, unknown>;
        };
        for (const [index, op] of ops.entries()) {
          apply(messages, op, counter);
          const checkpoint: Checkpoint = {
            v: 4,
            id: uuid6(-1),
            ts: new Date().toISOString(),
            channel_values: { messages: [...messages] },
            channel_versions: { messages: index + 1 },
            versions_seen: {},
          };
          const config = await saver.put(
            parent,
            checkpoint,
            { source: "loop", step: index, parents: {} },
            { messages: index + 1 },
          );
          const stored = (await saver.getTuple(config))!.checkpoint.channel_values.messages;
          const [type, bytes] = await stock.dumpsTyped(messages);
          expect(stored).toStrictEqual(await stock.loadsTyped(type, bytes));
          parent = config as typeof parent;
        }
        await saver.close();
      }),
      { numRuns: 60 },
    );
  });

  it("serializes only the new message when the rest are unchanged", async () => {
    const serde = new CountingSerializer({ blobStore: createMemoryBlobStore() });
    const saver = LeanSqliteSaver.fromConnString(":memory:", { serde });
    const messages: BaseMessage[] = Array.from({ length: 50 }, (_, index) => aiMessage(index));
    let parent = { configurable: { thread_id: "chat", checkpoint_ns: "" } } as {
      configurable: Record<string, unknown>;
    };
    for (let step = 0; step < 3; step += 1) {
      messages.push(new HumanMessage({ content: `turn ${step}`, id: `t${step}` }));
      serde.messagesSerialized = 0;
      parent = (await saver.put(
        parent,
        {
          v: 4,
          id: uuid6(-1),
          ts: new Date().toISOString(),
          channel_values: { messages: [...messages] },
          channel_versions: { messages: step + 1 },
          versions_seen: {},
        },
        { source: "loop", step, parents: {} },
        { messages: step + 1 },
      )) as typeof parent;
      expect(serde.messagesSerialized).toBe(step === 0 ? messages.length : 1);
    }
    messages[10]!.content = "edited in place";
    serde.messagesSerialized = 0;
    const config = await saver.put(
      parent,
      {
        v: 4,
        id: uuid6(-1),
        ts: new Date().toISOString(),
        channel_values: { messages: [...messages] },
        channel_versions: { messages: 9 },
        versions_seen: {},
      },
      { source: "loop", step: 9, parents: {} },
      { messages: 9 },
    );
    expect(serde.messagesSerialized).toBe(1);
    const stored = (await saver.getTuple(config))!.checkpoint.channel_values
      .messages as BaseMessage[];
    expect(stored[10]!.content).toBe("edited in place");
    await saver.close();
  });
});

/** Counts the messages the saver hands the serializer to prepare. */
class CountingSerializer extends RedactingSerializer {
  messagesSerialized = 0;
  override async prepare(values: readonly unknown[]) {
    this.messagesSerialized += values.filter((element) => element instanceof AIMessage).length;
    this.messagesSerialized += values.filter((element) => element instanceof HumanMessage).length;
    return super.prepare(values);
  }
}
