import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoErrorCode } from "../src/errors.js";
import { runAgent } from "../src/run/run-agent.js";
import { assertRunPathsUsable } from "../src/run/writable-paths.js";
import type { ProgressDisplay } from "../src/ui/progress.js";

const progress: ProgressDisplay = { update: () => {}, log: () => {}, done: () => {} };
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const baseEnv = { LG_USE_WORKERS: "off", LG_WORKER_THREADS: "1", LG_MEM_LOG_INTERVAL_S: "0" };

let root: string;
/** A regular file: no directory can ever be created below it. */
let file: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-paths-"));
  file = join(root, "a-file");
  await writeFile(file, "not a directory\n");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function runWith(runDir: string, env: NodeJS.ProcessEnv) {
  return runAgent({
    moduleCount: 2,
    targetBytes: 1024,
    seed: "paths",
    threadId: "paths",
    runDir,
    stateShape: "lean",
    env: { ...baseEnv, ...env },
    progress,
  });
}

/** Everything under the temp root besides the regular file itself. */
async function created(): Promise<string[]> {
  return (await readdir(root, { recursive: true })).filter((entry) => entry !== "a-file").sort();
}

describe("run paths are checked before anything is written", () => {
  it.each([
    ["LG_BLOB_DIR", () => join(file, "blobs")],
    ["LG_SQLITE_PATH", () => join(file, "checkpoints.sqlite")],
  ])(
    "%s below a regular file fails naming the variable, and creates nothing",
    async (name, value) => {
      const runDir = join(root, `run-${name}`);
      const error = await runWith(runDir, { [name]: value() }).then(
        () => undefined,
        (thrown: { code?: string; message: string; hint?: string }) => thrown,
      );
      expect(error?.code).toBe(DemoErrorCode.unusablePath);
      expect(error?.message).toContain(`${name}=${JSON.stringify(value())}`);
      expect(error?.message).toContain(`${file} is a file`);
      expect(error?.message).toContain("Accepted:");
      expect(existsSync(runDir)).toBe(false);
      expect(await created()).toEqual([]);
    },
  );

  it("a run dir below a regular file fails naming --run-dir", async () => {
    const runDir = join(file, "runs", "one");
    await expect(runWith(runDir, {})).rejects.toMatchObject({
      code: DemoErrorCode.unusablePath,
      message: expect.stringContaining(`--run-dir=${JSON.stringify(runDir)}`),
    });
    expect(await created()).toEqual([]);
  });

  it("accepts directories that do not exist yet, without creating them", async () => {
    const runDir = join(root, "deep", "run");
    await assertRunPathsUsable({
      runDir,
      env: {
        LG_BLOB_DIR: join(root, "elsewhere", "blobs"),
        LG_SQLITE_PATH: join(root, "db", "x.db"),
      },
    });
    expect(await created()).toEqual([]);
  });

  it("the CLI exits 2 with the code and the variable on stderr, leaving no database", () => {
    const runDir = join(root, "cli-run");
    const result = spawnSync(
      process.execPath,
      [cli, "--modules", "2", "--size", "1kb", "--thread", "t", "--run-dir", runDir],
      { env: { ...process.env, ...baseEnv, LG_BLOB_DIR: join(file, "blobs") }, encoding: "utf8" },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(DemoErrorCode.unusablePath);
    expect(result.stderr).toContain("LG_BLOB_DIR=");
    expect(existsSync(join(runDir, "checkpoints.sqlite"))).toBe(false);
    expect(existsSync(runDir)).toBe(false);
  });
});
