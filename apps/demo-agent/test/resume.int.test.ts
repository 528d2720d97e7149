import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCheckpointer } from "../src/runtime/checkpointer.js";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const env = { ...process.env, LG_WORKER_THREADS: "2", LG_MEM_LOG_INTERVAL_S: "0" };
const workload = ["--modules", "24", "--size", "8kb", "--seed", "resume-test"];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-resume-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
}

function finish(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

async function generationLog(runDir: string): Promise<string[]> {
  const path = join(runDir, "generation-log.ndjson");
  if (!existsSync(path)) return [];
  return (await readFile(path, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line).id as string);
}

async function projectFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path));
  }
  return files;
}

/** Waits until `count` modules were generated; fails at once if the child exits before that. */
async function waitForGenerations(runDir: string, count: number, child: ChildProcess) {
  while ((await generationLog(runDir)).length < count) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the demo exited (${child.exitCode ?? child.signalCode}) before ${count} generations`,
      );
    }
    await sleep(20);
  }
}

/** Module ids whose result is in the thread's latest checkpoint or in its saved pending writes. */
async function checkpointedModules(runDir: string, threadId: string): Promise<Set<string>> {
  const checkpointer = await openCheckpointer({ env, runDir });
  try {
    const tuple = await checkpointer.saver.getTuple({ configurable: { thread_id: threadId } });
    const ids = new Set<string>();
    for (const result of (tuple?.checkpoint.channel_values.results ?? []) as Array<{ id: string }>)
      ids.add(result.id);
    for (const [, channel, value] of tuple?.pendingWrites ?? []) {
      if (channel === "results")
        for (const result of value as Array<{ id: string }>) ids.add(result.id);
    }
    return ids;
  } finally {
    await checkpointer.close();
  }
}

describe("resume after SIGKILL", () => {
  it("continues from the last checkpoint without regenerating checkpointed modules; files match an uninterrupted run", async () => {
    const referenceDir = join(root, "reference");
    const reference = await finish(
      start([...workload, "--thread", "reference", "--run-dir", referenceDir, "--json"]),
    );
    expect(reference.code, reference.stderr).toBe(0);
    expect(JSON.parse(reference.stdout)).toMatchObject({ status: "completed", files: 24 });

    // Simulated model latency makes the run long enough (12 waves x 150 ms) to be killed mid-way.
    const crashedDir = join(root, "crashed");
    const crashArgs = [
      ...workload,
      "--thread",
      "crashed",
      "--run-dir",
      crashedDir,
      "--step-delay-ms",
      "150",
    ];
    const victim = start(crashArgs);
    const victimDone = finish(victim);
    await waitForGenerations(crashedDir, 8, victim);
    victim.kill("SIGKILL");
    const killed = await victimDone;
    expect(killed.signal).toBe("SIGKILL");

    const checkpointed = await checkpointedModules(crashedDir, "crashed");
    const beforeResume = await generationLog(crashedDir);
    expect(checkpointed.size).toBeGreaterThan(0);
    expect(checkpointed.size).toBeLessThan(24);

    const resumed = await finish(start(["--thread", "crashed", "--run-dir", crashedDir, "--json"]));
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout);
    expect(report).toMatchObject({
      status: "completed",
      resumed: true,
      files: 24,
      parseFailures: 0,
    });
    expect(resumed.stderr).toMatch(/resuming thread crashed/);

    const generations = await generationLog(crashedDir);
    const timesGenerated = (id: string) =>
      generations.filter((candidate) => candidate === id).length;
    for (const id of checkpointed) expect(timesGenerated(id), `module ${id}`).toBe(1);
    // Every module was generated; only those in flight at the kill (never checkpointed) twice.
    expect(new Set(generations).size).toBe(24);
    expect(generations.length - beforeResume.length).toBe(24 - checkpointed.size);

    // Reviews too: every file reviewed and recorded once, none skipped, none recorded twice.
    const checkpointer = await openCheckpointer({ env, runDir: crashedDir });
    try {
      const tuple = await checkpointer.saver.getTuple({ configurable: { thread_id: "crashed" } });
      const reviewed = (tuple!.checkpoint.channel_values.reviewed as Array<{ path: string }>).map(
        (file) => file.path,
      );
      expect(reviewed).toHaveLength(24);
      expect(new Set(reviewed).size).toBe(24);
    } finally {
      await checkpointer.close();
    }

    const expected = await projectFiles(join(referenceDir, "project"));
    const actual = await projectFiles(join(crashedDir, "project"));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, bytes] of expected) expect(actual.get(path)!.equals(bytes), path).toBe(true);
  });

  it("stops cleanly on Ctrl-C (SIGINT), prints the resume command, and the resume completes", async () => {
    const runDir = join(root, "ctrl-c");
    const args = [...workload, "--thread", "ctrl-c", "--run-dir", runDir, "--step-delay-ms", "150"];
    const child = start([...args, "--json"]);
    const done = finish(child);
    await waitForGenerations(runDir, 4, child);
    child.kill("SIGINT");
    const stopped = await done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ status: "interrupted" });
    expect(stopped.stderr).toContain(
      `Resume with:\n  leangraph-demo --thread ctrl-c --run-dir ${runDir}`,
    );

    const checkpointed = await checkpointedModules(runDir, "ctrl-c");
    expect(checkpointed.size).toBeGreaterThan(0);
    const resumed = await finish(start(["--thread", "ctrl-c", "--run-dir", runDir, "--json"]));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      status: "completed",
      resumed: true,
      files: 24,
    });
    const generations = await generationLog(runDir);
    for (const id of checkpointed)
      expect(generations.filter((candidate) => candidate === id)).toHaveLength(1);
  });
});
