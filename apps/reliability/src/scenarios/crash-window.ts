import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { tail } from "../support/child-process.js";
import { openDemoSaver, startDemoRun } from "../support/demo-run-dir.js";
import { ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { auditStorage, blobItemIdsSqlite, sqliteIntegrity } from "../support/storage-audit.js";
import { compareDemoOutput, readDemoOutput } from "./demo-output.js";

const workload = [
  "--modules",
  "8",
  "--size",
  "80kb",
  "--state",
  "naive",
  "--seed",
  "window-workload",
];
/**
 * Recreates, on a copy of a finished thread, the state a SIGKILL leaves when it lands in the
 * narrowest window of a superstep: every task's writes saved, the next checkpoint not yet. Random
 * kills rarely hit that window, so it is cut deterministically: checkpoints after `cutIndex` and
 * their writes are deleted; the writes attached to checkpoint `cutIndex` (the finished tasks of
 * the superstep that followed it) stay. The resume must finish the thread to the same output.
 */
export async function runCrashWindowScenario(
  options: {
    /** Which cuts to make, by position; negative counts from the end. @default every cut */
    cuts?: number[];
  } = {},
): Promise<ScenarioResult> {
  const recorder = new ScenarioRecorder(
    "crash-window",
    "Crash between a superstep's saved writes and its checkpoint (every cut), resume the demo",
  );
  const root = await mkdtemp(join(tmpdir(), "lg-rel-crash-window-"));
  try {
    const referenceDir = join(root, "reference");
    const reference = await startDemoRun(workload, referenceDir, "window").done;
    if (reference.code !== 0) {
      recorder.failure(`reference run failed: ${tail(reference.stderr)}`);
      return recorder.finish();
    }
    const referenceSaver = openDemoSaver(referenceDir);
    const expected = await readDemoOutput(referenceDir, referenceSaver, "window");
    await referenceSaver.close();
    const db = new Database(join(referenceDir, "checkpoints.sqlite"), { readonly: true });
    const cuts = (
      db
        .prepare(
          `SELECT c.checkpoint_id AS id FROM lg_checkpoints c WHERE c.checkpoint_ns = '' AND EXISTS (
            SELECT 1 FROM lg_writes w WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = ''
              AND w.checkpoint_id = c.checkpoint_id) ORDER BY c.checkpoint_id`,
        )
        .all() as Array<{ id: string }>
    ).map((row) => row.id);
    db.close();
    let finishedEarly = 0;
    for (const [index, cutId] of cuts.entries()) {
      const chosen =
        options.cuts === undefined ||
        options.cuts.some(
          (position) => (position < 0 ? cuts.length + position : position) === index,
        );
      if (!chosen) continue;
      await recorder.check(`cut after checkpoint ${index + 1} of ${cuts.length}`, async () => {
        const runDir = join(root, `cut-${index}`);
        await cp(referenceDir, runDir, { recursive: true });
        const cutDb = new Database(join(runDir, "checkpoints.sqlite"));
        cutDb.prepare("DELETE FROM lg_checkpoints WHERE checkpoint_id > ?").run(cutId);
        cutDb.prepare("DELETE FROM lg_writes WHERE checkpoint_id > ?").run(cutId);
        cutDb.close();
        const resumed = await startDemoRun(workload, runDir, "window").done;
        if (resumed.code !== 0) throw new Error(`resume failed: ${tail(resumed.stderr)}`);
        const saver = openDemoSaver(runDir);
        try {
          const difference = compareDemoOutput(
            expected,
            await readDemoOutput(runDir, saver, "window"),
          );
          if (difference) {
            finishedEarly += 1;
            throw new Error(`resume exited 0 but ${difference}`);
          }
          const integrity = sqliteIntegrity(saver.db);
          if (integrity !== "ok") throw new Error(`integrity_check: ${integrity}`);
          await saver.gc({ graceMs: 0 });
          const audit = await auditStorage(saver, await blobItemIdsSqlite(saver.db), ["window"]);
          recorder.lost(
            audit.missingBlobs + audit.unloadableCheckpoints,
            `cut ${index}: ${audit.firstProblem}`,
          );
          if (audit.orphanBlobs > 0)
            throw new Error(`${audit.orphanBlobs} orphan blob(s) after gc`);
        } finally {
          await saver.close();
        }
      });
    }
    recorder.note(
      `${recorder.result.trials} of ${cuts.length} cuts, one after each checkpoint that has saved task writes`,
    );
    if (finishedEarly > 0) {
      recorder.note(
        `${finishedEarly} resume(s) exited 0 with an output that differs from the uninterrupted run`,
      );
    }
    return recorder.finish();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
