import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtimeHasZstd } from "@leangraph/serde";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./helpers.js";

/*
 * Issue 18: a Node 20 process reads what a Node 24 process wrote and the other way round. `npm
 * test` runs this file on Node 24 and again on Node 20 (scripts/run.mjs), and installs Node 24
 * into .tools/, so in CI each run finds the other runtime: on Node 20 the one in .tools/, on
 * Node 24 the first `node` on PATH of another major version (the one `npm test` started with).
 */
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = join(packageDir, "..", "..");
const exchange = join(packageDir, "test", "fixtures", "body-exchange.mjs");
const major = (version: string) => Number(version.split(".")[0]);

function versionOf(nodeBin: string): string | undefined {
  try {
    return execFileSync(nodeBin, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

function otherNode(): string | undefined {
  const candidates = [
    process.env.LG_TEST_OTHER_NODE,
    ...(existsSync(join(repoRoot, ".tools"))
      ? readdirSync(join(repoRoot, ".tools"))
          .filter((name) => name.startsWith("node-"))
          .map((name) =>
            join(
              repoRoot,
              ".tools",
              name,
              "node_modules",
              `node-${process.platform}-${process.arch}`,
              "bin",
              "node",
            ),
          )
      : []),
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "node")),
  ];
  return candidates.find((candidate): candidate is string => {
    if (!candidate || !existsSync(candidate)) return false;
    const version = versionOf(candidate);
    return version !== undefined && major(version) !== major(process.versions.node);
  });
}

function run(nodeBin: string, mode: "write" | "read", dir: string) {
  const output = execFileSync(nodeBin, [exchange, mode, dir], {
    cwd: packageDir,
    encoding: "utf8",
  });
  return JSON.parse(output.trim().split("\n").pop()!);
}

const other = otherNode();

describe.skipIf(other === undefined)(
  `compressed bodies across Node versions (this: ${process.versions.node})`,
  () => {
    const temp = makeTempDir("cross-runtime");
    afterAll(() => temp.remove());

    it("reads what the other runtime wrote, and the other runtime reads what this one wrote", () => {
      const theirs = join(temp.dir, "theirs");
      const ours = join(temp.dir, "ours");
      const wrote = run(other!, "write", theirs);
      // This runtime reads theirs: every codec it has; zstd without it is a coded, explained error.
      const readHere = execFileSync(process.execPath, [exchange, "read", theirs], {
        cwd: packageDir,
        encoding: "utf8",
      });
      const hereResults = JSON.parse(readHere.trim()).results as {
        setting: string;
        ok: boolean;
        code?: string;
      }[];
      expect(hereResults.length).toBe(wrote.written);
      for (const result of hereResults) {
        if (result.setting === "zstd" && !runtimeHasZstd)
          expect(result).toMatchObject({ ok: false, code: "ERR_LG_BODY_CODEC_UNAVAILABLE" });
        else expect(result).toMatchObject({ ok: true });
      }
      expect(hereResults.find((result) => result.setting === "auto")).toMatchObject({ ok: true });

      execFileSync(process.execPath, [exchange, "write", ours], { cwd: packageDir });
      const readThere = run(other!, "read", ours);
      for (const result of readThere.results) {
        if (result.setting === "zstd" && !readThere.zstd)
          expect(result).toMatchObject({ ok: false, code: "ERR_LG_BODY_CODEC_UNAVAILABLE" });
        else expect(result).toMatchObject({ ok: true });
      }
    });
  },
);

it.runIf(other === undefined)(
  "cross-runtime check: no other Node version found (set LG_TEST_OTHER_NODE)",
  () => {
    expect(other).toBeUndefined();
  },
);
