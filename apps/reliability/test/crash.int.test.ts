import { describe, it } from "vitest";
import { runCrashPostgresScenario } from "../src/scenarios/crash-postgres.js";
import { runCrashSqliteScenario } from "../src/scenarios/crash-sqlite.js";
import { runCrashWindowScenario } from "../src/scenarios/crash-window.js";
import { expectScenarioPassed } from "./helpers.js";

// The quick subset of the crash scenario: 3 SIGKILLs per backend instead of 20. The full suite
// (pnpm test:reliability) runs the same code with more kills.
describe("crash: SIGKILL mid-run, then resume", () => {
  it("demo agent on SQLite: 3 kills, output byte-identical, integrity ok, no orphan or missing blob after gc", async () => {
    const result = await runCrashSqliteScenario({ kills: 3, killsPerRun: 3, seed: "ci" });
    expectScenarioPassed(result, 3);
  });

  it("agent on LeanPostgresSaver + Postgres blobs: 3 kills, state byte-identical, no orphan or missing blob after gc", async () => {
    const result = await runCrashPostgresScenario({ kills: 3, killsPerRun: 3, seed: "ci" });
    expectScenarioPassed(result, 3);
  });

  // A crash after a superstep's task writes are saved but before its checkpoint: the resume must
  // finish from those writes. The full suite runs every cut; this runs the last one.
  it("demo resume after a crash between saved writes and the checkpoint finishes the run", async () => {
    const result = await runCrashWindowScenario({ cuts: [-1] });
    expectScenarioPassed(result, 1);
  });
});
