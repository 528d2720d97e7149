import { join } from "node:path";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { createFsBlobStore } from "@leangraph/serde";
import { cleanEnv, startNode } from "./child-process.js";
import { demoCliPath } from "./paths.js";

// Two threads keep runs short; no [mem] lines, so the demo's --json output is all stdout holds.
const demoEnv = cleanEnv({ LG_WORKER_THREADS: "2", LG_MEM_LOG_INTERVAL_S: "0" });

/** Starts the demo CLI on `workload` for one thread, with everything under `runDir`. */
export function startDemoRun(workload: readonly string[], runDir: string, threadId: string) {
  return startNode(
    demoCliPath,
    [...workload, "--thread", threadId, "--run-dir", runDir, "--json"],
    { env: demoEnv },
  );
}

/** Opens the saver the demo wrote in `runDir` (its default database and blob dir there). */
export function openDemoSaver(runDir: string): LeanSqliteSaver {
  return LeanSqliteSaver.fromConnString(join(runDir, "checkpoints.sqlite"), {
    blobStore: createFsBlobStore({ dir: join(runDir, "blobs") }),
  });
}
