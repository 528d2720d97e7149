/**
 * @leangraph/demo-agent: the codegen agent behind `leangraph-demo`, usable as a library too
 * (e.g. to run the agent from another program, or to reuse the offline generator in tests).
 */
export { formatBytes, parseByteSize } from "./byte-size.js";
export { type DemoOptions, parseCliOptions } from "./cli-options.js";
export { type ComparedRun, renderComparisonHtml } from "./compare/html-report.js";
export { compareConfigurations, runComparison } from "./compare/run-compare.js";
export { renderLineChart } from "./compare/svg-chart.js";
export { DemoErrorCode, LeangraphError } from "./errors.js";
export { type GenerateModuleInput, generateModule } from "./generator/generate-module-step.js";
export { type ModuleSpec, planModule, planProject } from "./generator/plan-modules.js";
export { renderModuleSource } from "./generator/render-module.js";
export {
  buildCodegenGraph,
  type CodegenGraphDeps,
  compileCodegenGraph,
} from "./graph/build-graph.js";
export { syntaxDiagnostics } from "./graph/parse-check.js";
export { type ReviewedFile, reviewFiles } from "./graph/review-files-step.js";
export {
  CodegenState,
  type CodegenStateValue,
  type ModuleResult,
  type ProjectSpec,
  type ReviewReport,
  type RunSummary,
  type StateShape,
} from "./graph/state.js";
export { type AgentRunOptions, runAgent } from "./run/run-agent.js";
export type { DiskSample, RunReport } from "./run/run-report.js";
export { openCheckpointer } from "./runtime/checkpointer.js";
export { startMemoryMonitor } from "./runtime/memory.js";
export { createStepRunner, type StepRunner } from "./runtime/steps.js";
export { createProgressDisplay, type ProgressDisplay } from "./ui/progress.js";
