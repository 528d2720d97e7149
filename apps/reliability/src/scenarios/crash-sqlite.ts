import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tail } from "../support/child-process.js";
import { openDemoSaver, startDemoRun } from "../support/demo-run-dir.js";
import { killAndResume } from "../support/kill-loop.js";
import { ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { seededRandom } from "../support/seeded-random.js";
import { auditStorage, blobItemIdsSqlite, sqliteIntegrity } from "../support/storage-audit.js";
import { compareDemoOutput, type DemoOutput, readDemoOutput } from "./demo-output.js";

export interface CrashScenarioOptions {
  /** SIGKILLs in total. @default 20 */
  kills?: number;
  /** Kills per demo run before it may finish; the rest of the kills go to further runs. @default 4 */
  killsPerRun?: number;
  /** @default "leangraph-crash" */
  seed?: string;
}

/**
 * Naive state with 80 KB modules: the file text lives in the state, so every wave writes blobs
 * (items >= 64 KB) as well as rows, and a kill can land between a blob and its row.
 */
const workload = [
  "--modules",
  "16",
  "--size",
  "80kb",
  "--state",
  "naive",
  "--seed",
  "crash-workload",
  "--step-delay-ms",
  "40",
];
async function outputOf(runDir: string, threadId: string): Promise<DemoOutput> {
  const saver = openDemoSaver(runDir);
  try {
    return await readDemoOutput(runDir, saver, threadId);
  } finally {
    await saver.close();
  }
}

/**
 * SIGKILLs the demo agent (LeanSqliteSaver, blobs on disk, steps in workers) at seeded random
 * moments and resumes it each time; the finished thread must match an uninterrupted run byte for
 * byte, pass `PRAGMA integrity_check`, and after `gc` have no orphan and no missing blob.
 */
export async function runCrashSqliteScenario(
  options: CrashScenarioOptions = {},
): Promise<ScenarioResult> {
  const totalKills = options.kills ?? 20;
  const killsPerRun = options.killsPerRun ?? 4;
  const random = seededRandom(options.seed ?? "leangraph-crash");
  const recorder = new ScenarioRecorder(
    "crash-sqlite",
    "SIGKILL the demo agent (SQLite + fs blobs) mid-run, resume; output byte-identical",
  );
  const root = await mkdtemp(join(tmpdir(), "lg-rel-crash-sqlite-"));
  try {
    const referenceDir = join(root, "reference");
    const startedAt = performance.now();
    const reference = await startDemoRun(workload, referenceDir, "reference").done;
    const referenceMs = performance.now() - startedAt;
    if (reference.code !== 0) {
      recorder.failure(`uninterrupted reference run failed: ${tail(reference.stderr)}`);
      return recorder.finish();
    }
    const expected = await outputOf(referenceDir, "reference");
    recorder.note(
      `reference run ${Math.round(referenceMs)} ms, ${expected.files.size} files; kills land 150 ms..${Math.round(referenceMs * 0.9)} ms after spawn`,
    );
    let killsDone = 0;
    let integrityOk = 0;
    let runs = 0;
    let orphansBeforeGc = 0;
    while (killsDone < totalKills) {
      const kills = Math.min(killsPerRun, totalKills - killsDone);
      const threadId = `crash-${runs}`;
      const runDir = join(root, threadId);
      runs += 1;
      const loop = await killAndResume({
        start: () => startDemoRun(workload, runDir, threadId),
        kills,
        random,
        minDelayMs: 150,
        maxDelayMs: Math.max(300, Math.round(referenceMs * 0.9)),
      }).catch((error: Error) => {
        recorder.trial();
        recorder.failure(`${threadId}: ${error.message}`);
        return undefined;
      });
      if (!loop) {
        killsDone += kills;
        continue;
      }
      killsDone += loop.kills;
      if (loop.kills === 0) {
        recorder.failure(`${threadId}: no kill landed in ${loop.missed} attempts`);
        killsDone += kills;
        continue;
      }
      // Each kill is a trial; the run's checks below decide all of them together.
      for (let index = 0; index < loop.kills; index++) recorder.trial();
      if (loop.final.code !== 0) {
        recorder.failure(
          `${threadId}: resume after ${loop.kills} kill(s) failed: ${tail(loop.final.stderr)}`,
        );
        continue;
      }
      const actual = await outputOf(runDir, threadId);
      const difference = compareDemoOutput(expected, actual);
      if (difference) recorder.failure(`${threadId} after ${loop.kills} kill(s): ${difference}`);
      const saver = openDemoSaver(runDir);
      try {
        const integrity = sqliteIntegrity(saver.db);
        if (integrity === "ok") integrityOk += 1;
        else recorder.failure(`${threadId}: integrity_check says ${integrity}`);
        const blobIdsBefore = await blobItemIdsSqlite(saver.db);
        for await (const id of saver.blobStore.list())
          if (!blobIdsBefore.has(id)) orphansBeforeGc += 1;
        await saver.gc({ graceMs: 0 });
        const audit = await auditStorage(saver, await blobItemIdsSqlite(saver.db), [threadId]);
        recorder.lost(audit.missingBlobs, `${threadId}: ${audit.firstProblem}`);
        recorder.lost(audit.unloadableCheckpoints, `${threadId}: ${audit.firstProblem}`);
        if (audit.orphanBlobs > 0) {
          recorder.failure(`${threadId}: ${audit.orphanBlobs} orphan blob(s) after gc`);
        }
      } finally {
        await saver.close();
      }
    }
    recorder.note(
      `${killsDone} SIGKILLs over ${runs} thread(s); integrity_check ok ${integrityOk}/${runs}`,
    );
    recorder.note(
      `orphan blobs left by crashes before gc: ${orphansBeforeGc}; after gc: see failures`,
    );
    return recorder.finish();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
