import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "../src/run/run-agent.js";
import { openCheckpointer } from "../src/runtime/checkpointer.js";
import type { ProgressDisplay } from "../src/ui/progress.js";

const lines: string[] = [];
const progress: ProgressDisplay = {
  update: (state) => lines.push(`${state.modulesDone}/${state.modulesTotal}`),
  log: (line) => lines.push(line),
  done: () => {},
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-graph-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const workload = { moduleCount: 9, targetBytes: 6 * 1024, seed: "graph-test" };
const sha256 = (buffer: Buffer) => createHash("sha256").update(buffer).digest("hex");

async function latestChannelValues(runDir: string, threadId: string, env: NodeJS.ProcessEnv) {
  const checkpointer = await openCheckpointer({ env, runDir });
  try {
    const tuple = await checkpointer.saver.getTuple({ configurable: { thread_id: threadId } });
    return tuple!.checkpoint.channel_values as Record<string, any>;
  } finally {
    await checkpointer.close();
  }
}

describe("codegen graph", () => {
  it("lean state through worker isolates: one checkpoint per wave, paths and hashes only", async () => {
    const env = {
      LG_USE_WORKERS: "on",
      LG_WORKER_THREADS: "2",
      LG_MEM_WATCHDOG: "on",
      LG_MEM_LOG_INTERVAL_S: "0",
    };
    const runDir = join(root, "lean");
    const report = await runAgent({
      ...workload,
      threadId: "lean",
      runDir,
      stateShape: "lean",
      env,
      progress,
    });

    expect(report).toMatchObject({
      status: "completed",
      files: 9,
      waves: 5,
      filesParsed: 9,
      parseFailures: 0,
      faults: 0,
    });
    expect(report.setup).toMatchObject({
      steps: "workers",
      threads: 2,
      stateShape: "lean",
      watchdog: true,
    });
    // 5 waves + input, plan, review, summarize (+1 for the final state): about one per wave.
    expect(report.checkpoints).toBeGreaterThanOrEqual(9);
    expect(report.checkpoints).toBeLessThanOrEqual(10);
    expect(report.peakWorkerHeapBytes).toBeGreaterThan(0);

    const values = await latestChannelValues(runDir, "lean", env);
    expect(values.files ?? []).toEqual([]);
    expect(values.results).toHaveLength(9);
    for (const result of values.results) {
      const bytes = await readFile(join(report.projectDir, result.path));
      expect(result.sha256).toBe(sha256(bytes));
      expect(result.bytes).toBe(bytes.length);
    }
    // Every file reviewed once, in the review isolate: beside the next wave, or (the last wave) at the end.
    const reviewedPaths = values.reviewed.map((file: { path: string }) => file.path).sort();
    expect(reviewedPaths).toEqual(
      values.results.map((result: { path: string }) => result.path).sort(),
    );
    // 9 reviews, plus the review isolate's one boot (loading the compiler is review's cost).
    expect(report.timeBreakdown.categories.review.count).toBe(10);
    expect(report.timeBreakdown.categories.generation.count).toBe(9);
    expect(report.timeBreakdown.categories.checkpointing.count).toBeGreaterThanOrEqual(9);
    // The generation pool's fresh isolates boot per step (and spares ahead); the review isolate's
    // boot (the compiler) is review time, not counted here.
    expect(report.timeBreakdown.isolateBoot.count).toBeGreaterThanOrEqual(9);
    expect(report.timeBreakdown.isolateBoot.medianMs).toBeGreaterThan(0);
    // The whole state is small: no file content in it.
    expect(JSON.stringify(values).length).toBeLessThan(report.bytesGenerated / 5);
  });

  it("a resumed lean thread reviews exactly the files not reviewed before the interruption", async () => {
    const env = { LG_USE_WORKERS: "off", LG_WORKER_THREADS: "2", LG_MEM_WATCHDOG: "off" };
    const runDir = join(root, "review-resume");
    const abort = new AbortController();
    const interrupted = await runAgent({
      ...workload,
      simulatedLatencyMs: 150,
      threadId: "review-resume",
      runDir,
      stateShape: "lean",
      env,
      signal: abort.signal,
      progress: {
        ...progress,
        update: (state) => {
          if (state.modulesDone >= 5) abort.abort();
        },
      },
    });
    expect(interrupted.status).toBe("interrupted");

    // Reviews saved at the interruption: in the checkpoint or in its saved pending writes.
    const checkpointer = await openCheckpointer({ env, runDir });
    const saved = new Set<string>();
    try {
      const tuple = await checkpointer.saver.getTuple({
        configurable: { thread_id: "review-resume" },
      });
      for (const file of (tuple!.checkpoint.channel_values.reviewed ?? []) as Array<{
        path: string;
      }>)
        saved.add(file.path);
      for (const [, channel, value] of tuple!.pendingWrites ?? []) {
        if (channel === "reviewed")
          for (const file of value as Array<{ path: string }>) saved.add(file.path);
      }
    } finally {
      await checkpointer.close();
    }
    expect(saved.size).toBeGreaterThan(0);
    expect(saved.size).toBeLessThan(9);

    const resumed = await runAgent({
      ...workload,
      threadId: "review-resume",
      runDir,
      stateShape: "lean",
      env,
      progress,
    });
    expect(resumed).toMatchObject({ status: "completed", resumed: true, files: 9, filesParsed: 9 });
    // Not one review redone, not one skipped.
    expect(resumed.timeBreakdown.categories.review.count).toBe(9 - saved.size);
    const values = await latestChannelValues(runDir, "review-resume", env);
    const paths = values.reviewed.map((file: { path: string }) => file.path);
    expect(new Set(paths).size).toBe(9);
    expect(paths).toHaveLength(9);
  });

  it("naive state in-process keeps the text in state and writes the same files", async () => {
    const env = {
      LG_USE_WORKERS: "off",
      LG_WORKER_THREADS: "2",
      LG_MEM_WATCHDOG: "off",
      LG_REDACTING_SERDE: "off",
    };
    const runDir = join(root, "naive");
    const report = await runAgent({
      ...workload,
      threadId: "naive",
      runDir,
      stateShape: "naive",
      env,
      progress,
    });
    expect(report).toMatchObject({ status: "completed", files: 9, waves: 5, filesParsed: 9 });
    expect(report.setup).toMatchObject({
      steps: "in-process",
      checkpointer: "SqliteSaver, stock serializer",
      watchdog: false,
    });

    const values = await latestChannelValues(runDir, "naive", env);
    expect(values.files).toHaveLength(9);
    for (const file of values.files) {
      const onDisk = await readFile(join(report.projectDir, file.path), "utf8");
      expect(file.content).toBe(onDisk);
      // Same seed, same workload: byte-identical to what the lean run's workers wrote.
      expect(await readFile(join(root, "lean", "project", file.path), "utf8")).toBe(onDisk);
    }
  });

  it("running a finished thread again generates nothing and reports the same project", async () => {
    const env = { LG_USE_WORKERS: "off", LG_WORKER_THREADS: "2" };
    const report = await runAgent({
      ...workload,
      threadId: "lean",
      runDir: join(root, "lean"),
      stateShape: "lean",
      env,
      progress,
    });
    expect(report).toMatchObject({
      status: "completed",
      resumed: true,
      generationSteps: 0,
      files: 9,
    });
    const log = await readFile(join(root, "lean", "generation-log.ndjson"), "utf8");
    expect(log.trim().split("\n")).toHaveLength(9);
  });

  it("records a step that keeps running out of heap as a fault and finishes the run", async () => {
    // 16 MB of old generation cannot hold a 24 MB module: every attempt dies with a real OOM.
    const env = {
      LG_USE_WORKERS: "on",
      LG_WORKER_THREADS: "1",
      LG_WORKER_HEAP_MB: "16",
      LG_MEM_WATCHDOG: "off",
    };
    const report = await runAgent({
      moduleCount: 1,
      targetBytes: 24 * 1024 * 1024,
      seed: "oom",
      threadId: "oom",
      runDir: join(root, "oom"),
      stateShape: "lean",
      env,
      progress,
    });
    expect(report).toMatchObject({ status: "completed", files: 0, faults: 3, retries: 2 });
    const values = await latestChannelValues(join(root, "oom"), "oom", env);
    expect(values.results).toEqual([
      expect.objectContaining({ id: "m0000", attempts: 3, errorCode: "ERR_WORKER_OUT_OF_MEMORY" }),
    ]);
  });
});
