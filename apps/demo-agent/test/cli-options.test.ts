import { describe, expect, it } from "vitest";
import { parseByteSize } from "../src/byte-size.js";
import { parseCliOptions } from "../src/cli-options.js";
import { DemoErrorCode } from "../src/errors.js";

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  return { code: undefined, message: "" };
};

describe("CLI options", () => {
  it("defaults to the optimized single run in .lg/runs/<thread>", () => {
    const options = parseCliOptions([], "/work/here");
    expect(options).toMatchObject({
      moduleCount: 40,
      targetBytes: 13 * 1024,
      seed: "leangraph",
      stateShape: "lean",
      json: false,
      compare: false,
      threadGiven: false,
    });
    expect(options.runDir).toBe(`/work/here/.lg/runs/${options.threadId}`);
  });

  it("takes --dashboard with or without a port", () => {
    expect(parseCliOptions([], "/w").dashboardPort).toBeUndefined();
    expect(parseCliOptions(["--dashboard"], "/w").dashboardPort).toBe(0);
    expect(parseCliOptions(["--dashboard", "--modules", "3"], "/w")).toMatchObject({
      dashboardPort: 0,
      moduleCount: 3,
    });
    expect(parseCliOptions(["--dashboard", "7777"], "/w").dashboardPort).toBe(7777);
    expect(parseCliOptions(["--dashboard=7778"], "/w").dashboardPort).toBe(7778);
    expect(codeOf(() => parseCliOptions(["--dashboard=http"], "/w"))).toMatchObject({
      code: DemoErrorCode.invalidOption,
      message: expect.stringContaining("--dashboard takes a TCP port"),
    });
    expect(codeOf(() => parseCliOptions(["--dashboard", "--compare"], "/w"))).toMatchObject({
      code: DemoErrorCode.invalidOption,
      message: expect.stringContaining("--compare"),
    });
  });

  it("parses sizes with binary units", () => {
    expect(parseByteSize("200kb")).toBe(204_800);
    expect(parseByteSize("2.5MB")).toBe(2_621_440);
    expect(parseByteSize("4096")).toBe(4096);
    const options = parseCliOptions(
      ["--size", "200kb", "--thread", "t-1", "--run-dir", "out"],
      "/base",
    );
    expect(options).toMatchObject({
      targetBytes: 204_800,
      threadId: "t-1",
      threadGiven: true,
      runDir: "/base/out",
    });
  });

  it.each([
    [["--modules", "0"], /--modules must be at least 1/],
    [["--modules", "many"], /--modules must be a whole number/],
    [["--size", "3zb"], /not a size.*b, kb, mb or gb/],
    [["--size", "10b"], /between 256b and 64mb/],
    [["--state", "fat"], /--state must be lean or naive/],
    [["--thread", "../etc"], /--thread must be/],
    [["--bogus"], /Unknown option '--bogus'/],
  ])("rejects %j with a message naming the problem", (argv, message) => {
    const failure = codeOf(() => parseCliOptions(argv, "/"));
    expect(failure.code).toBe(DemoErrorCode.invalidOption);
    expect(failure.message).toMatch(message);
  });
});
