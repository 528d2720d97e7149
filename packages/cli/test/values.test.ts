import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { firstDifference } from "../src/values/first-difference.js";
import { LargestValues } from "../src/values/largest-values.js";
import { type LargeValue, measureValue } from "../src/values/value-size.js";

function largeValuesOf(value: unknown, root: string, minBytes = 1024): LargeValue[] {
  const found: LargeValue[] = [];
  measureValue(value, root, minBytes, (large) => found.push(large));
  return found;
}

describe("measureValue", () => {
  it("names array elements and message fields the way state is written", () => {
    const files = ["small", "x".repeat(5000), "y".repeat(3000)];
    expect(largeValuesOf(files, "files").map((v) => [v.path, v.bytes])).toEqual([
      ["files[1]", 5002],
      ["files[2]", 3002],
    ]);
    const messages = [new HumanMessage("hi"), new AIMessage("z".repeat(4000))];
    const found = largeValuesOf(messages, "messages");
    // The message's text, not the LangChain wrapper around it (kwargs) nor the message whole.
    expect(found.map((v) => v.path)).toEqual(["messages[1].content"]);
  });

  it("reports a container whose parts are all small, and only the deepest large value", () => {
    const many = Array.from({ length: 300 }, (_, index) => `line ${index}`);
    expect(largeValuesOf({ log: many }, "state").map((v) => v.path)).toEqual(["state.log"]);
    const nested = { draft: { body: "b".repeat(2000), meta: { "odd key": "c".repeat(1500) } } };
    expect(largeValuesOf(nested, "doc").map((v) => v.path)).toEqual([
      "doc.draft.body",
      'doc.draft.meta["odd key"]',
    ]);
  });

  it("measures about the JSON size and hashes equal content alike", () => {
    const value = { a: "q".repeat(3000), b: [1, 2, 3], c: null };
    const bytes = measureValue(value, "v", 1024, () => {});
    const json = Buffer.byteLength(JSON.stringify(value));
    expect(Math.abs(bytes - json) / json).toBeLessThan(0.01);
    const [first] = largeValuesOf(["s".repeat(2000)], "a");
    const [second] = largeValuesOf({ elsewhere: "s".repeat(2000) }, "b");
    expect(first!.hash).toBe(second!.hash);
    expect(largeValuesOf(["t".repeat(2000)], "a")[0]!.hash).not.toBe(first!.hash);
  });

  it("treats binary as a value of its byte length", () => {
    expect(
      largeValuesOf({ image: new Uint8Array(4096) }, "s").map((v) => [v.path, v.bytes]),
    ).toEqual([["s.image", 4096]]);
  });
});

describe("LargestValues", () => {
  const at = { channel: "files", threadId: "t", at: "c1", source: "state" as const };

  it("counts copies of the same bytes exactly and ranks by bytes x copies", () => {
    const table = new LargestValues(10);
    for (let copy = 0; copy < 5; copy += 1)
      table.offer({ path: "files[0]", bytes: 1000, hash: "a" }, at);
    table.offer({ path: "files[1]", bytes: 3000, hash: "b" }, at);
    expect(table.top(2).map((v) => [v.path, v.copies])).toEqual([
      ["files[0]", 5],
      ["files[1]", 1],
    ]);
  });

  it("keeps the largest distinct values within its capacity", () => {
    const table = new LargestValues(3);
    for (let index = 0; index < 100; index += 1) {
      table.offer({ path: `v[${index}]`, bytes: 1000 + index, hash: `h${index}` }, at);
      // Every value is seen twice: counts of those kept must be exact.
      table.offer({ path: `v[${index}]`, bytes: 1000 + index, hash: `h${index}` }, at);
    }
    expect(table.top(10).map((v) => [v.path, v.copies])).toEqual([
      ["v[99]", 2],
      ["v[98]", 2],
      ["v[97]", 2],
    ]);
  });

  it("prefers a path in state over the write that carried the value first", () => {
    const table = new LargestValues(3);
    table.offer({ path: "files[0]", bytes: 2000, hash: "a" }, { ...at, source: "write", at: "c0" });
    table.offer({ path: "files[7]", bytes: 2000, hash: "a" }, { ...at, at: "c1" });
    expect(table.top(1)[0]).toMatchObject({
      path: "files[7]",
      source: "state",
      at: "c1",
      copies: 2,
    });
  });
});

describe("firstDifference", () => {
  it("finds the first differing path, and nothing in equal data", () => {
    const a = {
      files: ["x", "y"],
      meta: { step: 1, extra: undefined },
      blob: new Uint8Array([1, 2]),
    };
    const b = { files: ["x", "y"], meta: { step: 1 }, blob: Buffer.from([1, 2]) };
    expect(firstDifference(a, b)).toBeUndefined();
    expect(firstDifference(a, { ...b, files: ["x", "z"] })).toContain("files[1]");
    expect(firstDifference(a, { ...b, files: ["x"] })).toContain("length 2 vs 1");
    expect(firstDifference(a, { ...b, blob: Buffer.from([1, 3]) })).toContain("blob");
    expect(firstDifference(new HumanMessage("a"), { content: "a" })).toContain("HumanMessage");
    expect(firstDifference(new AIMessage("a"), new AIMessage("a"))).toBeUndefined();
    expect(firstDifference(new Map([["k", 1]]), new Map([["k", 2]]))).toContain('["k"]');
  });
});
