import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate } from "node:timers/promises";
import { Command, END, Send, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { DemoErrorCode } from "../errors.js";
import type { GenerateModuleInput } from "../generator/generate-module-step.js";
import { planModule, planProject } from "../generator/plan-modules.js";
import type { StepRunner } from "../runtime/steps.js";
import type { TimeLedger } from "../runtime/time-ledger.js";
import type { ReviewedFile, ReviewFilesInput } from "./review-files-step.js";
import {
  CodegenState,
  type CodegenStateValue,
  type GenerateTask,
  type ModuleResult,
  type ProjectSpec,
  type ReviewedModule,
  type ReviewReport,
  type ReviewTask,
} from "./state.js";

export interface CodegenGraphDeps {
  /** Runs steps with output names relative to `runDir`. */
  stepRunner: StepRunner;
  runDir: string;
  /** Where every generation appends a line (see generate-module-step.ts). */
  generationLogPath: string;
  /** Records the in-process review's time (step times are recorded by the step runner). */
  timeLedger?: TimeLedger;
}

/** Diagnostics kept per failing file; the rest would only bloat the state. */
const MAX_DIAGNOSTICS = 5;

/** Generated files live under `<run dir>/project/`; review reports under `<run dir>/review/`. */
export const PROJECT_SUBDIR = "project";
const REVIEW_SUBDIR = "review";

/** The modules of wave `waveIndex`: a consecutive slice of the plan, `waveSize` long. */
function waveModules(spec: ProjectSpec, waveIndex: number) {
  const first = waveIndex * spec.waveSize;
  const last = Math.min(first + spec.waveSize, spec.moduleCount);
  const modules = [];
  for (let index = first; index < last; index++) modules.push(planModule(spec.seed, index));
  return modules;
}

function sendWave(spec: ProjectSpec, waveIndex: number): Send[] {
  return waveModules(spec, waveIndex).map(
    (module) => new Send("generate", { module, spec, waveIndex } satisfies GenerateTask),
  );
}

/**
 * plan -> generate (waves, each beside the review of the wave before) -> review -> summarize.
 *
 * Each wave is one superstep: `Send` fans out over up to `waveSize` modules, so every wave ends in
 * one checkpoint and a 200-module project at 2 threads writes about 100 of them. The wave's first
 * module (its "leader") also routes onward: it sends the next wave, or goes to review after the
 * last one. A join node would do the same but doubles the checkpoints; the leader needs no graph
 * state because a wave's modules are a pure function of (seed, index) — see `planModule`.
 *
 * In lean state, each generated file (except the last wave's) also sends a `reviewFiles` task
 * into the next superstep: it runs in the review isolate, whose compiler is already loaded, while
 * the next wave waits on its model, so review is off the critical path and adds no checkpoint.
 * Until that isolate has loaded the compiler, no such task is sent (it would hold the next wave).
 * The final `review` takes only what is not in `reviewed` yet (the last wave, and anything a
 * crash cut off).
 *
 * Resume comes from LangGraph itself: each finished task's writes are saved as pending writes the
 * moment it completes, so after a crash only the modules (and reviews) without a saved result run
 * again.
 */
export function buildCodegenGraph(deps: CodegenGraphDeps) {
  const plan = (state: CodegenStateValue) => {
    const spec = state.spec!;
    return new Command({
      update: { modules: planProject(spec.seed, spec.moduleCount) },
      goto: sendWave(spec, 0),
    });
  };

  const generate = async (task: GenerateTask) => {
    const { module, spec, waveIndex } = task;
    const result = await runGenerationStep(deps, task);
    const isLeader = module.index === waveIndex * spec.waveSize;
    const nextWaveFirst = (waveIndex + 1) * spec.waveSize;
    const lastWave = nextWaveFirst >= spec.moduleCount;
    const reviewBeside =
      spec.stateShape === "lean" &&
      !lastWave &&
      result.errorCode === undefined &&
      deps.stepRunner.reviewReady
        ? [
            new Send("reviewFiles", {
              files: [{ path: result.path, sha256: result.sha256 }],
            } satisfies ReviewTask),
          ]
        : [];
    const onward = !isLeader ? [] : lastWave ? ["review"] : sendWave(spec, waveIndex + 1);
    const goto = [...onward, ...reviewBeside];
    const naiveFile =
      spec.stateShape === "naive" && result.errorCode === undefined
        ? [
            {
              path: module.path,
              content: await readFile(join(deps.runDir, PROJECT_SUBDIR, module.path), "utf8"),
            },
          ]
        : [];
    return new Command({
      update: {
        results: [result],
        files: naiveFile,
        wavesDone: isLeader ? 1 : 0,
        faults: result.errorCode === undefined ? result.attempts - 1 : result.attempts,
        retries: result.attempts - 1,
      },
      goto,
    });
  };

  /** One wave's files, reviewed beside the next wave. */
  const reviewFiles = async (task: ReviewTask) => ({
    reviewed: await reviewInIsolates(deps, task.files),
  });

  const review = async (
    state: CodegenStateValue,
  ): Promise<{ reviewReport: ReviewReport; reviewed?: ReviewedModule[] }> => {
    if (state.spec?.stateShape === "naive") {
      const measure = deps.timeLedger?.measure ?? ((_, work) => work());
      return { reviewReport: await measure("review", () => reviewHeldText(state)) };
    }
    // Lean: what was not reviewed beside a later wave (the last wave, or what a crash cut off).
    const done = new Set(state.reviewed.map((file) => file.path));
    const rest = state.results.filter(
      (result) => result.errorCode === undefined && !done.has(result.path),
    );
    const reviewed = await reviewInIsolates(deps, rest);
    return { reviewed, reviewReport: reportOf([...state.reviewed, ...reviewed]) };
  };

  const summarize = (state: CodegenStateValue) => {
    const generated = state.results.filter((result) => result.errorCode === undefined);
    return {
      summary: {
        modulesPlanned: state.modules.length,
        modulesGenerated: generated.length,
        modulesFailed: state.results.length - generated.length,
        bytesGenerated: generated.reduce((total, result) => total + result.bytes, 0),
        filesParsed:
          (state.reviewReport?.filesChecked ?? 0) - (state.reviewReport?.failures.length ?? 0),
        parseFailures: state.reviewReport?.failures.length ?? 0,
      },
    };
  };

  return (
    new StateGraph(CodegenState)
      .addNode("plan", plan, { ends: ["generate", "review"] })
      // A `Send`-only node: its input is the `GenerateTask` payload, not the graph state, which
      // the typed `addNode` overloads cannot express.
      .addNode("generate", generate as never, { ends: ["generate", "review", "reviewFiles"] })
      .addNode("reviewFiles", reviewFiles as never)
      .addNode("review", review)
      .addNode("summarize", summarize)
      .addEdge(START, "plan")
      .addEdge("review", "summarize")
      .addEdge("summarize", END)
  );
}

export type CodegenGraph = ReturnType<typeof buildCodegenGraph>;

export function compileCodegenGraph(deps: CodegenGraphDeps, checkpointer: BaseCheckpointSaver) {
  return buildCodegenGraph(deps).compile({ checkpointer });
}

/**
 * One generation step through the step runner, which retries the faults a fresh isolate may
 * cure. A step that still fails is recorded as a failed module (a fault in the summary), not
 * thrown: one bad file should not stop a two-hour run.
 */
async function runGenerationStep(
  deps: CodegenGraphDeps,
  { module, spec }: GenerateTask,
): Promise<ModuleResult> {
  const input: GenerateModuleInput = {
    module,
    seed: spec.seed,
    targetBytes: spec.targetBytes,
    generationLogPath: deps.generationLogPath,
    simulatedLatencyMs: spec.simulatedLatencyMs,
  };
  try {
    const outcome = await deps.stepRunner.runGenerateStep(
      input,
      `${PROJECT_SUBDIR}/${module.path}`,
    );
    return {
      id: module.id,
      path: module.path,
      bytes: outcome.bytes,
      sha256: outcome.sha256,
      heapUsedPeakBytes: outcome.heapUsedPeakBytes,
      ms: Math.round(outcome.ms),
      attempts: outcome.attempts,
    };
  } catch (error) {
    const { code, attempts } = error as { code?: unknown; attempts?: unknown };
    return {
      id: module.id,
      path: module.path,
      bytes: 0,
      sha256: "",
      heapUsedPeakBytes: 0,
      ms: 0,
      attempts: typeof attempts === "number" ? attempts : 1,
      errorCode: typeof code === "string" ? code : DemoErrorCode.stepFailed,
    };
  }
}

/**
 * Naive state, as naive agents do: review the text held in state, in this process. The compiler
 * is loaded here, on first use. Yielding between files keeps the event loop (progress, heap
 * sampling, Ctrl-C) alive during a long review.
 */
async function reviewHeldText(state: CodegenStateValue): Promise<ReviewReport> {
  const { syntaxDiagnostics } = await import("./parse-check.js");
  const report: ReviewReport = {
    filesChecked: 0,
    bytesRead: 0,
    heapUsedPeakBytes: 0,
    failures: [],
  };
  for (const file of state.files) {
    await setImmediate();
    report.bytesRead += Buffer.byteLength(file.content);
    report.filesChecked++;
    const diagnostics = syntaxDiagnostics(file.path, file.content);
    if (diagnostics.length > 0) {
      report.failures.push({ path: file.path, diagnostics: diagnostics.slice(0, MAX_DIAGNOSTICS) });
    }
  }
  return report;
}

/**
 * Reads files back by path and parses them in the review isolate, one step per file (they queue
 * on the isolate, whose compiler stays loaded); only each file's small JSON report comes back.
 */
async function reviewInIsolates(
  deps: CodegenGraphDeps,
  files: Array<{ path: string; sha256: string }>,
): Promise<ReviewedModule[]> {
  return Promise.all(
    files.map(async (file) => {
      const input: ReviewFilesInput = {
        files: [
          {
            absolutePath: join(deps.runDir, PROJECT_SUBDIR, file.path),
            path: file.path,
            sha256: file.sha256,
          },
        ],
        maxDiagnostics: MAX_DIAGNOSTICS,
      };
      const outcome = await deps.stepRunner.runReviewStep(
        input,
        `${REVIEW_SUBDIR}/${file.path}.json`,
      );
      const [reviewed] = JSON.parse(await readFile(outcome.path, "utf8")) as ReviewedFile[];
      return {
        ...reviewed!,
        heapUsedPeakBytes: deps.stepRunner.mode === "workers" ? outcome.heapUsedPeakBytes : 0,
      };
    }),
  );
}

function reportOf(reviewed: ReviewedModule[]): ReviewReport {
  const report: ReviewReport = {
    filesChecked: 0,
    bytesRead: 0,
    heapUsedPeakBytes: 0,
    failures: [],
  };
  for (const file of reviewed) {
    report.filesChecked++;
    report.bytesRead += file.bytes;
    report.heapUsedPeakBytes = Math.max(report.heapUsedPeakBytes, file.heapUsedPeakBytes);
    if (file.diagnostics.length > 0) {
      report.failures.push({ path: file.path, diagnostics: file.diagnostics });
    }
  }
  return report;
}
