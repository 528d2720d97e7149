import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentRunOptions, runAgent } from "../src/run/run-agent.js";
import { openCheckpointer } from "../src/runtime/checkpointer.js";
import type { ProgressDisplay } from "../src/ui/progress.js";

/**
 * A SIGKILL can land after every task of a superstep saved its writes but before the
 * superstep's checkpoint. Random kills rarely hit that window, so it is cut deterministically on
 * a copy of a finished thread (as the reliability suite's crash-window scenario does): the
 * checkpoints after the cut and their writes are deleted, the cut checkpoint's writes stay.
 */
const progress: ProgressDisplay = { update: () => {}, log: () => {}, done: () => {} };
const env = { LG_USE_WORKERS: "off", LG_WORKER_THREADS: "2", LG_MEM_LOG_INTERVAL_S: "0" };
const threadId = "window";

let root: string;
let referenceDir: string;
let reference: { summary?: unknown };
let cuts: string[];

function run(runDir: string, overrides: Partial<AgentRunOptions> = {}) {
  return runAgent({
    moduleCount: 6,
    targetBytes: 3 * 1024,
    seed: "window-test",
    threadId,
    runDir,
    stateShape: "naive",
    env,
    progress,
    ...overrides,
  });
}

/** Runs `use` with the run dir's database (the lean saver's own better-sqlite3 handle). */
async function withDatabase<T>(runDir: string, use: (saver: LeanSqliteSaver) => T): Promise<T> {
  const checkpointer = await openCheckpointer({ env, runDir });
  try {
    return use(checkpointer.saver as LeanSqliteSaver);
  } finally {
    await checkpointer.close();
  }
}

/** Per-run measurements, which differ between any two runs of the same workload. */
const measuredFields = new Set(["ms", "heapUsedPeakBytes", "threadId", "attempts"]);

function withoutMeasurements(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMeasurements);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !measuredFields.has(key))
      .map(([key, field]) => [key, withoutMeasurements(field)]),
  );
}

/** The latest checkpoint's channels, as saved (saved task writes not applied). */
async function finalChannelValues(runDir: string): Promise<unknown> {
  const checkpointer = await openCheckpointer({ env, runDir });
  try {
    const tuple = await checkpointer.saver.getTuple({ configurable: { thread_id: threadId } });
    return withoutMeasurements(tuple!.checkpoint.channel_values);
  } finally {
    await checkpointer.close();
  }
}

/** A copy of the reference thread as a kill after checkpoint `cutId` left it. */
async function cutCopy(name: string, cutId: string, keepCutWrites: boolean): Promise<string> {
  const runDir = join(root, name);
  await cp(referenceDir, runDir, { recursive: true });
  await withDatabase(runDir, (saver) => {
    saver.db.prepare("DELETE FROM lg_checkpoints WHERE checkpoint_id > ?").run(cutId);
    saver.db
      .prepare(`DELETE FROM lg_writes WHERE checkpoint_id ${keepCutWrites ? ">" : ">="} ?`)
      .run(cutId);
  });
  return runDir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-window-"));
  referenceDir = join(root, "reference");
  const report = await run(referenceDir);
  expect(report.status).toBe("completed");
  reference = (await finalChannelValues(referenceDir)) as { summary?: unknown };
  cuts = await withDatabase(referenceDir, (saver) =>
    (
      saver.db
        .prepare(
          `SELECT c.checkpoint_id AS id FROM lg_checkpoints c WHERE c.checkpoint_ns = '' AND EXISTS (
            SELECT 1 FROM lg_writes w WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = ''
              AND w.checkpoint_id = c.checkpoint_id) ORDER BY c.checkpoint_id`,
        )
        .all() as Array<{ id: string }>
    ).map((row) => row.id),
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("resume after a kill between a superstep's saved writes and its checkpoint", () => {
  it("finishes the thread to the uninterrupted run's final state at every cut", async () => {
    // input, plan, 3 waves, review, summarize: one cut after each checkpoint with task writes.
    expect(cuts.length).toBeGreaterThanOrEqual(6);
    expect(reference.summary).toMatchObject({ filesParsed: 6, parseFailures: 0 });
    for (const [index, cutId] of cuts.entries()) {
      const runDir = await cutCopy(`cut-${index}`, cutId, true);
      const report = await run(runDir);
      expect(report, `cut ${index}`).toMatchObject({ status: "completed", resumed: true });
      expect(await finalChannelValues(runDir), `cut ${index}`).toEqual(reference);
      expect(report.filesParsed, `cut ${index}`).toBe(6);
    }
  });

  it("resumes a thread killed before its input task saved the spec with the thread's own workload", async () => {
    // Only the input checkpoint is left, without writes: the spec lives in its __start__ channel.
    const runDir = await cutCopy("input-only", cuts[0]!, false);
    const report = await run(runDir, { moduleCount: 2, seed: "other-options" });
    expect(report).toMatchObject({ status: "completed", resumed: true, files: 6 });
    expect(await finalChannelValues(runDir)).toEqual(reference);
  });
});
