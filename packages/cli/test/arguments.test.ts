import { LeangraphError } from "@leangraph/serde";
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../src/arguments/command-line.js";
import { parseDurationMs } from "../src/arguments/duration.js";
import { CliErrorCode } from "../src/errors.js";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LeangraphError);
    return (error as LeangraphError).code;
  }
  return undefined;
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}

describe("parseDurationMs", () => {
  it.each([
    ["500ms", 500],
    ["90s", 90_000],
    ["15m", 900_000],
    ["1h", 3_600_000],
    ["30d", 2_592_000_000],
    ["2w", 1_209_600_000],
    ["1.5h", 5_400_000],
  ])("%s is %i ms", (text, ms) => {
    expect(parseDurationMs("--older-than", text)).toBe(ms);
  });

  it.each(["30", "", "d", "-1d", "1y", "1 d", "1e3s", "999999999w"])(
    "refuses %j with ERR_LG_INVALID_OPTION, naming the flag and the value",
    (text) => {
      expect(codeOf(() => parseDurationMs("--older-than", text))).toBe(CliErrorCode.invalidOption);
      const message = messageOf(() => parseDurationMs("--older-than", text));
      expect(message).toContain("--older-than");
      expect(message).toContain(JSON.stringify(text));
    },
  );
});

describe("parseCommandLine", () => {
  it("reads every command with its defaults", () => {
    expect(parseCommandLine(["inspect", "db.sqlite"])).toMatchObject({
      name: "inspect",
      database: { backend: "sqlite", path: "db.sqlite" },
      lean: { blobStore: "fs", blobDir: undefined },
      top: 10,
      json: false,
    });
    expect(parseCommandLine(["gc", "db.sqlite", "--json"])).toMatchObject({
      name: "gc",
      graceMs: 3_600_000,
      dryRun: false,
      json: true,
    });
    expect(
      parseCommandLine([
        "prune",
        "postgres://u@h/db",
        "--schema",
        "agents",
        "--keep-last",
        "20",
        "--older-than",
        "30d",
        "--thread",
        "a",
        "--thread",
        "b",
        "--thread",
        "a",
        "--dry-run",
      ]),
    ).toMatchObject({
      name: "prune",
      database: { backend: "postgres", url: "postgres://u@h/db", schema: "agents" },
      lean: { blobStore: "postgres", blobDir: undefined },
      keepLast: 20,
      maxAgeMs: 2_592_000_000,
      threadIds: ["a", "b"],
      dryRun: true,
    });
    expect(
      parseCommandLine([
        "import",
        "--from",
        "stock.sqlite",
        "--to",
        "postgresql://u@h/db",
        "--to-schema",
        "lean",
        "--blob-store",
        "fs",
        "--blob-dir",
        "/var/blobs",
      ]),
    ).toMatchObject({
      name: "import",
      from: { backend: "sqlite", path: "stock.sqlite" },
      to: { backend: "postgres", schema: "lean" },
      lean: { blobStore: "fs", blobDir: "/var/blobs" },
    });
  });

  it.each([
    [["frobnicate"], CliErrorCode.usage],
    [["inspect"], CliErrorCode.usage],
    [["inspect", "a.sqlite", "b.sqlite"], CliErrorCode.usage],
    [["inspect", "a.sqlite", "--verbose"], CliErrorCode.usage],
    [["inspect", "a.sqlite", "--top", "0"], CliErrorCode.invalidOption],
    [["inspect", "a.sqlite", "--top", "ten"], CliErrorCode.invalidOption],
    [["inspect", "a.sqlite", "--kind", "both"], CliErrorCode.invalidOption],
    [["inspect", "a.sqlite", "--schema", "s"], CliErrorCode.invalidOption],
    [["inspect", "postgres://h/db", "--schema", "bad-name"], CliErrorCode.invalidOption],
    [["inspect", "a.sqlite", "--blob-store", "postgres"], CliErrorCode.invalidOption],
    [["inspect", "postgres://h/db", "--blob-store", "s3"], CliErrorCode.invalidOption],
    [["inspect", "postgres://h/db", "--blob-store", "fs"], CliErrorCode.usage],
    [["inspect", "postgres://h/db", "--blob-dir", "x"], CliErrorCode.invalidOption],
    [["gc", "a.sqlite", "--grace", "1"], CliErrorCode.invalidOption],
    [["prune", "a.sqlite"], CliErrorCode.usage],
    [["prune", "a.sqlite", "--keep-last=-1"], CliErrorCode.invalidOption],
    [["prune", "a.sqlite", "--keep-last", "2.5"], CliErrorCode.invalidOption],
    [["prune", "a.sqlite", "--older-than", "30"], CliErrorCode.invalidOption],
    [["prune", "a.sqlite", "--keep-last", "1", "--thread", ""], CliErrorCode.invalidOption],
    [["import", "--from", "a.sqlite"], CliErrorCode.usage],
    [["import", "--from", "a.sqlite", "--to", "./a.sqlite"], CliErrorCode.invalidOption],
    [
      ["import", "--from", "a.sqlite", "--to", "b.sqlite", "--from-schema", "x"],
      CliErrorCode.invalidOption,
    ],
  ])("%j fails with %s", (argv, code) => {
    expect(codeOf(() => parseCommandLine(argv))).toBe(code);
  });

  it("names the argument, the value and what is accepted", () => {
    const message = messageOf(() => parseCommandLine(["prune", "a.sqlite", "--keep-last", "many"]));
    expect(message).toContain("--keep-last");
    expect(message).toContain('"many"');
    expect(message).toContain("whole number");
  });

  it("answers help and version without touching a database", () => {
    expect(parseCommandLine([])).toEqual({ name: "help", topic: undefined });
    expect(parseCommandLine(["help", "prune"])).toEqual({ name: "help", topic: "prune" });
    expect(parseCommandLine(["verify", "x", "--help"])).toEqual({ name: "help", topic: "verify" });
    expect(parseCommandLine(["--version"])).toEqual({ name: "version" });
  });
});
