import { runBadInputScenario } from "./scenarios/bad-input.js";
import { runConcurrencyScenario } from "./scenarios/concurrency.js";
import { runCorruptionScenario } from "./scenarios/corruption.js";
import { runCrashPostgresScenario } from "./scenarios/crash-postgres.js";
import { runCrashSqliteScenario } from "./scenarios/crash-sqlite.js";
import { runCrashWindowScenario } from "./scenarios/crash-window.js";
import { runDifferentialScenario } from "./scenarios/differential.js";
import { runFaultSweepScenario } from "./scenarios/fault-sweep.js";
import { runWorkerFaultScenario } from "./scenarios/worker-faults.js";
import { runWriteFailureScenario } from "./scenarios/write-failures.js";
import type { ScenarioResult } from "./support/scenario-result.js";

export interface FullSuiteOptions {
  /** @default "leangraph" */
  seed?: string;
  /** SIGKILLs per backend. @default 20 */
  kills?: number;
  /** @default 200 */
  faultSteps?: number;
  /** @default 200 */
  putsPerProcess?: number;
  /** Differential-fuzzing sequences, each run on every lean configuration. @default 2000 */
  differentialSequences?: number;
}

/** Every scenario, one after another (they measure; running them in parallel would skew them). */
export async function runFullSuite(options: FullSuiteOptions = {}): Promise<ScenarioResult[]> {
  const seed = options.seed ?? "leangraph";
  const kills = options.kills ?? 20;
  return [
    await runCrashSqliteScenario({ kills, seed }),
    await runCrashWindowScenario(),
    await runCrashPostgresScenario({ kills, seed }),
    await runCorruptionScenario(),
    await runWorkerFaultScenario({ steps: options.faultSteps ?? 200, seed }),
    await runConcurrencyScenario({ putsPerProcess: options.putsPerProcess ?? 200 }),
    await runBadInputScenario(),
    await runWriteFailureScenario(),
    await runFaultSweepScenario(),
    await runDifferentialScenario({ sequences: options.differentialSequences ?? 2000, seed }),
  ];
}
