export {
  type RunContext,
  renderReliabilityDoc,
  scenarioTable,
  soakTable,
} from "./report/render.js";
export { runBadInputScenario } from "./scenarios/bad-input.js";
export { runConcurrencyScenario } from "./scenarios/concurrency.js";
export { runCorruptionScenario } from "./scenarios/corruption.js";
export { runCrashPostgresScenario } from "./scenarios/crash-postgres.js";
export { runCrashSqliteScenario } from "./scenarios/crash-sqlite.js";
export { runCrashWindowScenario } from "./scenarios/crash-window.js";
export { runSoak, type SoakOptions, type SoakResult } from "./scenarios/soak.js";
export { runWorkerFaultScenario } from "./scenarios/worker-faults.js";
export { runWriteFailureScenario } from "./scenarios/write-failures.js";
export { runFullSuite } from "./suite.js";
export { passed, type ScenarioResult } from "./support/scenario-result.js";
