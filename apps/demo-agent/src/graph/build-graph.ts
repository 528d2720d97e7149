import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate } from "node:timers/promises";
import { Command, END, Send, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { DemoErrorCode } from "../errors.js";
import type { GenerateModuleInput } from "../generator/generate-module-step.js";
import { planModule, planProject } from "../generator/plan-modules.js";
import type { StepRunner } from "../runtime/steps.js";
import { syntaxDiagnostics } from "./parse-check.js";
import type { ReviewedFile, ReviewFilesInput } from "./review-files-step.js";
import {
  CodegenState,
  type CodegenStateValue,
  type GenerateTask,
  type ModuleResult,
  type ProjectSpec,
  type ReviewReport,
} from "./state.js";

export interface CodegenGraphDeps {
  /** Runs steps with output names relative to `runDir`. */
  stepRunner: StepRunner;
  runDir: string;
  /** Where every generation appends a line (see generate-module-step.ts). */
  generationLogPath: string;
}

/** Diagnostics kept per failing file; the rest would only bloat the state. */
const MAX_DIAGNOSTICS = 5;

/**
 * Each review step pays for a fresh isolate and for loading the TypeScript compiler (~1.5 s of
 * CPU here), so the files are split into about one batch per thread, not one step per file.
 * Files are parsed one at a time inside a batch, so a big batch does not mean a big heap.
 */
function reviewBatchSize(fileCount: number, threads: number): number {
  return Math.max(1, Math.ceil(fileCount / Math.max(1, threads)));
}

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
 * plan -> generate (waves) -> review -> summarize.
 *
 * Each wave is one superstep: `Send` fans out over up to `waveSize` modules, so every wave ends in
 * one checkpoint and a 200-module project at 2 threads writes about 100 of them. The wave's first
 * module (its "leader") also routes onward: it sends the next wave, or goes to review after the
 * last one. A join node would do the same but doubles the checkpoints; the leader needs no graph
 * state because a wave's modules are a pure function of (seed, index) — see `planModule`.
 *
 * Resume comes from LangGraph itself: each finished `generate` task's writes are saved as pending
 * writes the moment it completes, so after a crash only the modules without a saved result run
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
    const goto = !isLeader
      ? []
      : nextWaveFirst < spec.moduleCount
        ? sendWave(spec, waveIndex + 1)
        : ["review"];
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

  const review = async (state: CodegenStateValue): Promise<{ reviewReport: ReviewReport }> => {
    const report: ReviewReport = {
      filesChecked: 0,
      bytesRead: 0,
      heapUsedPeakBytes: 0,
      failures: [],
    };
    const record = (path: string, text: string) => {
      const diagnostics = syntaxDiagnostics(path, text);
      report.filesChecked++;
      if (diagnostics.length > 0) {
        report.failures.push({ path, diagnostics: diagnostics.slice(0, MAX_DIAGNOSTICS) });
      }
    };
    if (state.spec?.stateShape === "naive") {
      // As naive agents do: review the text held in state. Yielding between files keeps the
      // event loop (progress, heap sampling, Ctrl-C) alive during a long review.
      for (const file of state.files) {
        await setImmediate();
        report.bytesRead += Buffer.byteLength(file.content);
        record(file.path, file.content);
      }
      return { reviewReport: report };
    }
    // Lean: the files are read back by path and parsed inside step isolates, batch by batch;
    // only each batch's small JSON report comes back to this process.
    const generated = state.results.filter((result) => result.errorCode === undefined);
    const batches = [];
    const batchSize = reviewBatchSize(generated.length, deps.stepRunner.threads);
    for (let first = 0; first < generated.length; first += batchSize) {
      batches.push(generated.slice(first, first + batchSize));
    }
    const reviewed = await Promise.all(
      batches.map(async (batch, index) => {
        const input: ReviewFilesInput = {
          files: batch.map((result) => ({
            absolutePath: join(deps.runDir, PROJECT_SUBDIR, result.path),
            path: result.path,
            sha256: result.sha256,
          })),
          maxDiagnostics: MAX_DIAGNOSTICS,
        };
        const outputName = `${REVIEW_SUBDIR}/batch-${String(index).padStart(4, "0")}.json`;
        const outcome = await deps.stepRunner.runReviewStep(input, outputName);
        if (deps.stepRunner.mode === "workers") {
          report.heapUsedPeakBytes = Math.max(report.heapUsedPeakBytes, outcome.heapUsedPeakBytes);
        }
        return JSON.parse(await readFile(outcome.path, "utf8")) as ReviewedFile[];
      }),
    );
    for (const file of reviewed.flat()) {
      report.filesChecked++;
      report.bytesRead += file.bytes;
      if (file.diagnostics.length > 0) {
        report.failures.push({ path: file.path, diagnostics: file.diagnostics });
      }
    }
    return { reviewReport: report };
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
      .addNode("generate", generate as never, { ends: ["generate", "review"] })
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
