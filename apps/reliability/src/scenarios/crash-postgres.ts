import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import {
  dropSchema,
  postgresUnavailableReason,
  postgresUrl,
  uniqueSchema,
} from "@leangraph/test-postgres";
import { cleanEnv, startNode, tail } from "../support/child-process.js";
import { killAndResume } from "../support/kill-loop.js";
import { childProgram } from "../support/paths.js";
import { ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { seededRandom } from "../support/seeded-random.js";
import { auditStorage, blobItemIdsPostgres } from "../support/storage-audit.js";
import type { CrashScenarioOptions } from "./crash-sqlite.js";

const steps = 12;
const delayMs = 60;

function agentRun(schema: string, threadId: string, outFile: string) {
  return startNode(
    childProgram("pg-crash-agent"),
    [schema, threadId, String(steps), "crash-workload", String(delayMs), outFile],
    { env: cleanEnv(), typescript: true },
  );
}

/**
 * SIGKILLs an agent on LeanPostgresSaver + the Postgres blob store (own schema per thread, dropped
 * after) at seeded random moments and resumes it; the final state must equal an uninterrupted
 * run's byte for byte, and after `gc` no blob may be orphaned or missing.
 */
export async function runCrashPostgresScenario(
  options: CrashScenarioOptions = {},
): Promise<ScenarioResult> {
  const totalKills = options.kills ?? 20;
  const killsPerRun = options.killsPerRun ?? 4;
  const random = seededRandom(`${options.seed ?? "leangraph-crash"}-postgres`);
  const recorder = new ScenarioRecorder(
    "crash-postgres",
    "SIGKILL an agent on LeanPostgresSaver (Postgres blobs) mid-run, resume; state byte-identical",
  );
  const unavailable = await postgresUnavailableReason();
  if (unavailable) return recorder.skip(unavailable);
  const root = await mkdtemp(join(tmpdir(), "lg-rel-crash-pg-"));
  try {
    const referenceSchema = uniqueSchema("crash_ref");
    const referenceOut = join(root, "reference.json");
    const startedAt = performance.now();
    const reference = await agentRun(referenceSchema, "reference", referenceOut).done;
    const referenceMs = performance.now() - startedAt;
    await dropSchema(referenceSchema);
    if (reference.code !== 0) {
      recorder.failure(`uninterrupted reference run failed: ${tail(reference.stderr)}`);
      return recorder.finish();
    }
    const expected = await readFile(referenceOut, "utf8");
    recorder.note(
      `reference run ${Math.round(referenceMs)} ms, final state ${expected.length} bytes`,
    );
    let killsDone = 0;
    let runs = 0;
    while (killsDone < totalKills) {
      const kills = Math.min(killsPerRun, totalKills - killsDone);
      const schema = uniqueSchema(`crash_${runs}`);
      const threadId = `crash-${runs}`;
      const outFile = join(root, `${threadId}.json`);
      runs += 1;
      try {
        const loop = await killAndResume({
          start: () => agentRun(schema, threadId, outFile),
          kills,
          random,
          minDelayMs: 200,
          maxDelayMs: Math.max(400, Math.round(referenceMs * 0.9)),
        });
        killsDone += Math.max(loop.kills, loop.kills === 0 ? kills : 0);
        for (let index = 0; index < loop.kills; index++) recorder.trial();
        if (loop.kills === 0) {
          recorder.failure(`${threadId}: no kill landed in ${loop.missed} attempts`);
          continue;
        }
        if (loop.final.code !== 0) {
          recorder.failure(`${threadId}: resume failed: ${tail(loop.final.stderr)}`);
          continue;
        }
        const actual = await readFile(outFile, "utf8");
        if (actual !== expected) {
          recorder.failure(
            `${threadId}: final state differs from the uninterrupted run (${actual.length} vs ${expected.length} bytes)`,
          );
        }
        const saver = LeanPostgresSaver.fromConnString(postgresUrl, { schema });
        try {
          await saver.gc({ graceMs: 0 });
          const audit = await auditStorage(saver, await blobItemIdsPostgres(schema), [threadId]);
          recorder.lost(
            audit.missingBlobs + audit.unloadableCheckpoints,
            `${threadId}: ${audit.firstProblem}`,
          );
          if (audit.orphanBlobs > 0)
            recorder.failure(`${threadId}: ${audit.orphanBlobs} orphan blob(s) after gc`);
        } finally {
          await saver.close();
        }
      } catch (error) {
        recorder.trial();
        recorder.failure(`${threadId}: ${(error as Error).message}`);
        killsDone += kills;
      } finally {
        await dropSchema(schema);
      }
    }
    recorder.note(
      `${recorder.result.trials} SIGKILLs over ${runs} thread(s), one schema each (dropped)`,
    );
    return recorder.finish();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
