import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImportReport } from "../src/commands/import.js";
import { ExitCode } from "../src/exit-codes.js";
import { expectSameThreads, normalized } from "./fixtures/compare-savers.js";
import { openLeanSqlite } from "./fixtures/lean-databases.js";
import {
  buildManyThreadsSqlite,
  buildStockSqlite,
  manyThreadIds,
  stockContents,
} from "./fixtures/stock-databases.js";
import { buildWorkflowGraph } from "./fixtures/workflow-graph.js";
import { jsonOf, makeTempDir, runLeangraph, runStoppedWhen } from "./helpers.js";

const openLean = openLeanSqlite;

/** A missing file and an empty one are the same content (a reader may leave an empty -wal). */
function fileDigest(path: string): string {
  return createHash("sha256")
    .update(existsSync(path) ? readFileSync(path) : Buffer.alloc(0))
    .digest("hex");
}

/** Rows in the destination, read by a separate connection while the import writes (WAL). */
function importedCheckpoints(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM lg_checkpoints").get() as { n: number }).n;
  } catch {
    return 0; // tables not created yet
  } finally {
    db.close();
  }
}

/** Starts an import and sends `signal` once the destination holds at least `atCheckpoints`. */
function importStoppedBy(
  args: string[],
  destination: string,
  signal: NodeJS.Signals,
  atCheckpoints: number,
) {
  return runStoppedWhen(
    args,
    signal,
    async () => importedCheckpoints(destination) >= atCheckpoints,
  ).then((stopped) => ({ ...stopped, storedAfterStop: importedCheckpoints(destination) }));
}

describe("leangraph import from a stock SqliteSaver database", () => {
  const temp = makeTempDir("import");
  const stock = join(temp.dir, "stock.sqlite");
  let stockDigest: string;

  beforeAll(async () => {
    await buildStockSqlite(stock);
    stockDigest = fileDigest(stock) + fileDigest(`${stock}-wal`);
  });
  afterAll(() => temp.remove());

  it("copies every thread with its whole history, verifies it, and reports bytes before and after", async () => {
    const lean = join(temp.dir, "lean.sqlite");
    const run = await runLeangraph(["import", "--from", stock, "--to", lean, "--json"]);
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    const report = jsonOf<ImportReport>(run);
    expect(report).toMatchObject({
      status: "done",
      threads: stockContents.threads.length,
      alreadyPresent: 0,
      verifiedThreads: stockContents.threads.length,
      mismatches: [],
    });
    expect(report.imported).toBe(report.checkpoints);
    expect(report.verifiedCheckpoints).toBe(report.checkpoints);
    expect(report.destinationBytes).toBeGreaterThan(0);
    expect(report.destinationBytes).toBeLessThan(report.sourceBytes);
    expect(report.peakRssBytes).toBeGreaterThan(0);
    // Progress went to stderr as plain lines (not a terminal), the report alone to stdout.
    expect(run.stderr).toMatch(/^import: 0\/\d+ checkpoints/m);
    expect(run.stderr).toMatch(/^verify: \d+\/\d+ checkpoints/m);

    // Independently of the CLI's own check: the stock saver and a lean saver read back the same.
    const stockSaver = new SqliteSaver(new Database(stock, { readonly: true }));
    const leanSaver = openLean(lean);
    try {
      const compared = await expectSameThreads(stockSaver, leanSaver, stockContents.threads);
      expect(compared).toBe(report.checkpoints);
      // And what a user sees through a graph: state, next tasks, interrupts, history.
      for (const threadId of ["workflow", "waiting"]) {
        const config = { configurable: { thread_id: threadId } };
        const want = await buildWorkflowGraph(stockSaver).getState(config);
        const got = await buildWorkflowGraph(leanSaver).getState(config);
        expect(normalized(got.values)).toEqual(normalized(want.values));
        expect(got.next).toEqual(want.next);
        expect(got.tasks.map((task) => task.interrupts)).toEqual(
          want.tasks.map((task) => task.interrupts),
        );
      }
      // The file blobs are stored once each, however many checkpoints hold them.
      const stats = await leanSaver.storageStats();
      expect(stats.blobCount).toBe(stockContents.appendSteps);
    } finally {
      (stockSaver.db as Database.Database).close();
      await leanSaver.close();
    }
  });

  it("never writes to the source", async () => {
    await runLeangraph(["inspect", stock]);
    await runLeangraph(["stats", stock]);
    expect(fileDigest(stock) + fileDigest(`${stock}-wal`)).toBe(stockDigest);
  });

  it("rerun on a finished import changes nothing and verifies again", async () => {
    const lean = join(temp.dir, "twice.sqlite");
    expect((await runLeangraph(["import", "--from", stock, "--to", lean])).code).toBe(ExitCode.ok);
    const again = jsonOf<ImportReport>(
      await runLeangraph(["import", "--from", stock, "--to", lean, "--json"]),
    );
    expect(again).toMatchObject({
      status: "done",
      imported: 0,
      verifiedThreads: stockContents.threads.length,
    });
    expect(again.alreadyPresent).toBe(again.checkpoints);
  });

  it("finds a destination that differs from the source and exits 1 naming the checkpoint", async () => {
    const lean = join(temp.dir, "tampered.sqlite");
    expect((await runLeangraph(["import", "--from", stock, "--to", lean])).code).toBe(ExitCode.ok);
    // Rewrite one checkpoint's metadata behind the import's back: a later rerun must notice.
    const saver = openLean(lean);
    const latest = (await saver.getTuple({ configurable: { thread_id: "chat" } }))!;
    await saver.put(
      {
        configurable: {
          thread_id: "chat",
          checkpoint_ns: "",
          checkpoint_id: latest.parentConfig?.configurable?.checkpoint_id,
        },
      },
      latest.checkpoint,
      { ...latest.metadata!, step: 999 },
      {},
    );
    await saver.close();
    const run = await runLeangraph(["import", "--from", stock, "--to", lean, "--json"]);
    expect(run.code).toBe(ExitCode.failed);
    const report = jsonOf<ImportReport>(run);
    expect(report.status).toBe("mismatch");
    expect(report.mismatches).toEqual([
      expect.objectContaining({
        threadId: "chat",
        checkpointId: latest.config.configurable?.checkpoint_id,
        difference: expect.stringContaining("metadata.step"),
      }),
    ]);
    expect(report.verifiedThreads).toBe(stockContents.threads.length - 1);
  });
});

describe("leangraph import, killed or interrupted part way", () => {
  const temp = makeTempDir("resume");
  const stock = join(temp.dir, "many.sqlite");
  const threads = 30;
  const steps = 6;

  beforeAll(async () => {
    await buildManyThreadsSqlite(stock, threads, steps);
  });
  afterAll(() => temp.remove());

  const threadIds = manyThreadIds(threads);

  it("after SIGKILL, a rerun continues where it stopped and ends with the same result", async () => {
    const clean = join(temp.dir, "clean.sqlite");
    expect((await runLeangraph(["import", "--from", stock, "--to", clean])).code).toBe(ExitCode.ok);

    const killed = join(temp.dir, "killed.sqlite");
    const args = ["import", "--from", stock, "--to", killed, "--json"];
    const first = await importStoppedBy(args, killed, "SIGKILL", 40);
    expect(first.sent).toBe(true);
    expect(first.run.signal).toBe("SIGKILL");
    const total = threads * (steps + 2);
    expect(first.storedAfterStop).toBeLessThan(total);

    const second = await runLeangraph(args);
    expect(second.code, second.stderr).toBe(ExitCode.ok);
    const report = jsonOf<ImportReport>(second);
    // Checkpoints are imported one after another, each with its writes: a kill leaves at most one
    // stored without all of its writes, which the rerun puts again.
    expect(report.alreadyPresent).toBeGreaterThanOrEqual(first.storedAfterStop - 1);
    expect(report.alreadyPresent).toBeLessThanOrEqual(first.storedAfterStop);
    expect(report.imported).toBeGreaterThan(0);
    expect(report.alreadyPresent + report.imported).toBe(total);
    expect(report.verifiedThreads).toBe(threads);

    const cleanSaver = openLean(clean);
    const resumedSaver = openLean(killed);
    try {
      expect(await expectSameThreads(cleanSaver, resumedSaver, threadIds)).toBe(total);
      const [cleanStats, resumedStats] = [
        await cleanSaver.storageStats(),
        await resumedSaver.storageStats(),
      ];
      expect(resumedStats.checkpointCount).toBe(cleanStats.checkpointCount);
      expect(resumedStats.blobCount).toBe(cleanStats.blobCount);
    } finally {
      await cleanSaver.close();
      await resumedSaver.close();
    }
  });

  it("Ctrl-C (SIGINT) stops at a safe point with exit 130; a rerun finishes", async () => {
    const interrupted = join(temp.dir, "interrupted.sqlite");
    const args = ["import", "--from", stock, "--to", interrupted, "--json"];
    const first = await importStoppedBy(args, interrupted, "SIGINT", 20);
    expect(first.sent).toBe(true);
    expect(first.run.code).toBe(ExitCode.interrupted);
    const report = jsonOf<ImportReport>(first.run);
    expect(report.status).toBe("interrupted");
    expect(first.run.stderr).toContain("Ctrl-C");
    // Nothing half-written: every checkpoint the destination holds reads back whole.
    const saver = openLean(interrupted);
    try {
      for (const threadId of threadIds) {
        for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) {
          expect(tuple.checkpoint.channel_values).toBeDefined();
        }
      }
    } finally {
      await saver.close();
    }
    const second = await runLeangraph(args);
    expect(second.code).toBe(ExitCode.ok);
    expect(jsonOf<ImportReport>(second)).toMatchObject({
      status: "done",
      verifiedThreads: threads,
    });
  });
});
