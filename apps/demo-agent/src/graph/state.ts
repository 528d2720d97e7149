import { Annotation } from "@langchain/langgraph";
import type { ModuleSpec } from "../generator/plan-modules.js";

/**
 * `lean`: the state holds paths, hashes and sizes, never file contents (what leangraph wants).
 * `naive`: the generated text is kept in state as well, the way agents are written today; it is
 * what the stock and drop-in configurations of `--compare` run.
 */
export type StateShape = "lean" | "naive";

/** The workload, fixed at the start of a thread and kept in state so a resume reuses it. */
export interface ProjectSpec {
  projectName: string;
  seed: string;
  moduleCount: number;
  targetBytes: number;
  /** Modules per wave (one superstep); `LG_WORKER_THREADS` at the start of the thread. */
  waveSize: number;
  stateShape: StateShape;
  /** Simulated model latency per generation step (see generate-module-step.ts). */
  simulatedLatencyMs: number;
}

/** What the graph remembers about one generated module. Small, whatever the file's size. */
export interface ModuleResult {
  id: string;
  /** Project-relative path of the file under the run's output directory. */
  path: string;
  bytes: number;
  sha256: string;
  /** Peak heap of the isolate that generated it (the main heap when run in-process). */
  heapUsedPeakBytes: number;
  ms: number;
  attempts: number;
  /** Set when every attempt failed; the module then has no file. */
  errorCode?: string;
}

/** Naive state only: a generated file with its full text, as agents commonly keep it. */
export interface GeneratedFile {
  path: string;
  content: string;
}

export interface ReviewReport {
  filesChecked: number;
  bytesRead: number;
  /** Peak heap of the review steps' isolates (0 when the review ran in the main process). */
  heapUsedPeakBytes: number;
  /** Files whose text does not parse as TypeScript/TSX, with the first diagnostics. */
  failures: Array<{ path: string; diagnostics: string[] }>;
}

/** One file's review, kept in state the moment it is done, so a resumed thread knows. */
export interface ReviewedModule {
  /** Project-relative path (as in `ModuleResult.path`). */
  path: string;
  bytes: number;
  /** Empty when the file parses and still has the checkpointed hash. */
  diagnostics: string[];
  /** Peak heap of the isolate that reviewed it (0 in-process). */
  heapUsedPeakBytes: number;
}

/** What `Send("reviewFiles", …)` carries: files generated in the previous wave. */
export interface ReviewTask {
  files: Array<{ path: string; sha256: string }>;
}

export interface RunSummary {
  modulesPlanned: number;
  modulesGenerated: number;
  modulesFailed: number;
  bytesGenerated: number;
  filesParsed: number;
  parseFailures: number;
}

const append = <T>(left: T[], right: T[] | T) => left.concat(right);
const sum = (left: number, right: number) => left + right;

/**
 * Growing collections are arrays with an append reducer: the shape @leangraph/checkpointer stores
 * incrementally (an append writes only what is new), and the shape people naturally write.
 */
export const CodegenState = Annotation.Root({
  spec: Annotation<ProjectSpec | null>({ reducer: (_, next) => next, default: () => null }),
  /** The planned modules (ids and paths); set once by `plan`. */
  modules: Annotation<ModuleSpec[]>({ reducer: (_, next) => next, default: () => [] }),
  results: Annotation<ModuleResult[]>({ reducer: append, default: () => [] }),
  /** Empty in lean state. */
  files: Annotation<GeneratedFile[]>({ reducer: append, default: () => [] }),
  /** Waves finished so far; each wave is one superstep and one checkpoint. */
  wavesDone: Annotation<number>({ reducer: sum, default: () => 0 }),
  faults: Annotation<number>({ reducer: sum, default: () => 0 }),
  retries: Annotation<number>({ reducer: sum, default: () => 0 }),
  /**
   * Lean state: files reviewed so far. Each wave's files are reviewed beside the next wave (while
   * it waits on its model); the final review takes whatever is not in here, so a resumed thread
   * neither reviews a file twice nor skips one.
   */
  reviewed: Annotation<ReviewedModule[]>({ reducer: append, default: () => [] }),
  reviewReport: Annotation<ReviewReport | null>({
    reducer: (_, next) => next,
    default: () => null,
  }),
  summary: Annotation<RunSummary | null>({ reducer: (_, next) => next, default: () => null }),
});

export type CodegenStateValue = typeof CodegenState.State;
export type CodegenStateUpdate = typeof CodegenState.Update;

/** What `Send("generate", …)` carries: one module and its place in the wave plan. */
export interface GenerateTask {
  module: ModuleSpec;
  spec: ProjectSpec;
  waveIndex: number;
}
