import { describe, expect, it } from "vitest";
import { StepError, WorkersErrorCode } from "../src/index.js";
import { parseStepRequest, resolveOutputPath } from "../src/step-request.js";
import { STEPS_MODULE } from "./helpers.js";

function rejection(request: Record<string, unknown>): StepError {
  try {
    parseStepRequest({
      modulePath: STEPS_MODULE,
      exportName: "echo",
      input: {},
      outputName: "out.txt",
      ...request,
    } as never);
  } catch (error) {
    return error as StepError;
  }
  throw new Error("expected a rejection");
}

describe("step requests", () => {
  it("accepts absolute paths and file: URLs, normalizing to a file: URL", () => {
    const fromPath = parseStepRequest({
      modulePath: STEPS_MODULE,
      exportName: "echo",
      input: { nested: [1, "two", null, true] },
      outputName: "src/deep/app.ts",
    });
    expect(fromPath.modulePath).toMatch(/^file:\/\/.*steps\.mjs$/);
    const fromUrl = parseStepRequest({ ...fromPath, modulePath: fromPath.modulePath });
    expect(fromUrl.modulePath).toBe(fromPath.modulePath);
  });

  it.each([
    "../escape.txt",
    "a/../../b",
    "/etc/passwd",
    "a//b",
    "./a",
    "a\\..\\b",
    "nul\0byte",
    "",
  ])("rejects the output name %j before any worker runs", (outputName) => {
    const error = rejection({ outputName });
    expect(error).toBeInstanceOf(StepError);
    expect(error.code).toBe(WorkersErrorCode.inputInvalid);
    expect(error.message).toContain("outputName");
  });

  it.each([
    ["a function", () => 1],
    ["undefined", undefined],
    ["a BigInt", 10n],
    ["NaN", Number.NaN],
  ])("rejects %s as input: inputs must be JSON", (_label, input) => {
    expect(rejection({ input }).code).toBe(WorkersErrorCode.inputInvalid);
  });

  it("rejects an input holding a cycle, naming where it loops back", () => {
    const input: Record<string, unknown> = { spec: { modules: [] as unknown[] } };
    ((input.spec as Record<string, unknown>).modules as unknown[]).push(input);
    const error = rejection({ input });
    expect(error.code).toBe(WorkersErrorCode.inputInvalid);
    expect(error.message).toContain("input.spec.modules[0]");
    expect(error.message).toContain("cycle");
  });

  it("accepts shared (non-cyclic) references and deep nesting", () => {
    const shared = { name: "shared" };
    let deep: unknown = "leaf";
    for (let level = 0; level < 50_000; level++) deep = [deep];
    const parsed = parseStepRequest({
      modulePath: STEPS_MODULE,
      exportName: "echo",
      input: { first: shared, second: shared, deep },
      outputName: "out.txt",
    });
    expect((parsed.input as { second: unknown }).second).toBe(shared);
  });

  it.each([
    ["a Date", { when: new Date(0) }, "input.when is a Date"],
    ["a Map", { lookup: new Map() }, "input.lookup is a Map"],
    ["Infinity", { size: Number.POSITIVE_INFINITY }, "input.size is Infinity"],
  ])("rejects %s nested in the input, naming its path", (_label, input, expected) => {
    expect(rejection({ input }).message).toContain(expected);
  });

  it("rejects relative module paths and bad export names", () => {
    expect(rejection({ modulePath: "steps.mjs" }).message).toContain("modulePath");
    expect(rejection({ exportName: "not-an-identifier" }).message).toContain("exportName");
  });

  it("rejects a misspelt field instead of ignoring it (a typo must not drop a timeout)", () => {
    const typo = rejection({ timeoutMS: 5_000 });
    expect(typo.code).toBe(WorkersErrorCode.inputInvalid);
    expect(typo.message).toContain("timeoutMS");
    expect(rejection({ retry: { retries: 1, retryon: [] } }).message).toContain("retryon");
  });

  it("re-checks containment when resolving the path", () => {
    expect(resolveOutputPath("/runs/1", "src/app.ts")).toBe("/runs/1/src/app.ts");
    expect(() => resolveOutputPath("/runs/1", "../2/x")).toThrow(StepError);
  });
});
