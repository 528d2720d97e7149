import { runBadInputScenario } from "./scenarios/bad-input.js";
import { runConcurrencyScenario } from "./scenarios/concurrency.js";
import { runCorruptionScenario } from "./scenarios/corruption.js";
import { runCrashPostgresScenario } from "./scenarios/crash-postgres.js";
import { runCrashSqliteScenario } from "./scenarios/crash-sqlite.js";
import { runCrashWindowScenario } from "./scenarios/crash-window.js";
import { defaultDifferentialSequences, runDifferentialScenario } from "./scenarios/differential.js";
import { runDistributedScenario } from "./scenarios/distributed.js";
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
  /** Differential-fuzzing sequences, each run on every lean configuration. @default defaultDifferentialSequences */
  differentialSequences?: number;
}

/** Every scenario of the full suite, by id, in the order they run. */
const scenarios: Record<string, (options: Required<FullSuiteOptions>) => Promise<ScenarioResult>> =
  {
    "crash-sqlite": ({ kills, seed }) => runCrashSqliteScenario({ kills, seed }),
    "crash-window": () => runCrashWindowScenario(),
    "crash-postgres": ({ kills, seed }) => runCrashPostgresScenario({ kills, seed }),
    distributed: ({ seed }) => runDistributedScenario({ seed: `${seed}-distributed` }),
    corruption: () => runCorruptionScenario(),
    "worker-faults": ({ faultSteps, seed }) => runWorkerFaultScenario({ steps: faultSteps, seed }),
    concurrency: ({ putsPerProcess }) => runConcurrencyScenario({ putsPerProcess }),
    "bad-input": () => runBadInputScenario(),
    "write-failures": () => runWriteFailureScenario(),
    // Every position, plain and with encryption on (a seal between the plan and the commit).
    "fault-sweep": () =>
      runFaultSweepScenario({
        backends: ["sqlite", "postgres", "sqlite-encrypted", "postgres-encrypted"],
      }),
    differential: ({ differentialSequences, seed }) =>
      runDifferentialScenario({ sequences: differentialSequences, seed }),
  };

export const scenarioIds = Object.keys(scenarios);

/**
 * The scenarios (every one by default), one after another: they measure, and running them side by
 * side would skew them.
 */
export async function runFullSuite(
  options: FullSuiteOptions = {},
  only: readonly string[] = scenarioIds,
): Promise<ScenarioResult[]> {
  const resolved: Required<FullSuiteOptions> = {
    seed: options.seed ?? "leangraph",
    kills: options.kills ?? 20,
    faultSteps: options.faultSteps ?? 200,
    putsPerProcess: options.putsPerProcess ?? 200,
    differentialSequences: options.differentialSequences ?? defaultDifferentialSequences,
  };
  const results: ScenarioResult[] = [];
  for (const id of scenarioIds.filter((name) => only.includes(name))) {
    results.push(await scenarios[id]!(resolved));
  }
  return results;
}
