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

  it("rejects relative module paths and bad export names", () => {
    expect(rejection({ modulePath: "steps.mjs" }).message).toContain("modulePath");
    expect(rejection({ exportName: "not-an-identifier" }).message).toContain("exportName");
  });

  it("re-checks containment when resolving the path", () => {
    expect(resolveOutputPath("/runs/1", "src/app.ts")).toBe("/runs/1/src/app.ts");
    expect(() => resolveOutputPath("/runs/1", "../2/x")).toThrow(StepError);
  });
});
