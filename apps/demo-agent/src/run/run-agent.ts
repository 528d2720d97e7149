import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { MemoryWatchdog, StepPoolStats } from "@leangraph/workers";
import { formatBytes } from "../byte-size.js";
import { compileCodegenGraph, PROJECT_SUBDIR } from "../graph/build-graph.js";
import type { ModuleResult, ProjectSpec } from "../graph/state.js";
import {
  openCheckpointer,
  type CheckpointStorage as StorageStats,
} from "../runtime/checkpointer.js";
import { startMemoryMonitor } from "../runtime/memory.js";
import { createStepRunner, removeInterruptedWrites } from "../runtime/steps.js";
import { createTimeLedger } from "../runtime/time-ledger.js";
import type { ProgressDisplay } from "../ui/progress.js";
import type { DiskSample, RunReport } from "./run-report.js";
import { threadPosition } from "./thread-position.js";
import { assertRunPathsUsable } from "./writable-paths.js";

export interface AgentRunOptions {
  moduleCount: number;
  targetBytes: number;
  seed: string;
  threadId: string;
  runDir: string;
  stateShape: "lean" | "naive";
  /** @default 0 */
  simulatedLatencyMs?: number;
  /** LG_* flags; the packages parse their own. */
  env: NodeJS.ProcessEnv;
  progress: ProgressDisplay;
  /** Aborting stops the run after the current tasks' results are saved (Ctrl-C). */
  signal?: AbortSignal;
  /**
   * Called once the watchdog, saver and step pool are open, before the graph runs: where the CLI
   * attaches the dashboard and the /metrics endpoint, which may outlive the run.
   */
  onPartsOpen?: (parts: RunParts) => Promise<void>;
  /**
   * Called with the report while every part is still open (the CLI prints it here and, with
   * --dashboard, keeps the dashboard and /metrics answering until Ctrl-C).
   */
  onFinished?: (report: RunReport) => Promise<void>;
}

/** The running parts an observer may read (all of them owned and closed by the run). */
export interface RunParts {
  watchdog: MemoryWatchdog | undefined;
  stepPool: { stats(): StepPoolStats };
  checkpointer: { storageStats(): Promise<StorageStats> };
}

/** Supersteps besides the waves (input, plan, review, summarize) plus slack. */
const EXTRA_SUPERSTEPS = 10;

/**
 * Runs (or resumes) one thread of the codegen agent to completion or until `signal` aborts,
 * and reports what it cost. Starting fresh or resuming is decided by the checkpoint alone (see
 * `threadPosition`): a thread with unfinished work continues from its last checkpoint and its
 * saved task writes, with its original workload.
 */
export async function runAgent(options: AgentRunOptions): Promise<RunReport> {
  const startedAt = performance.now();
  const projectDir = join(options.runDir, PROJECT_SUBDIR);
  const generationLogPath = join(options.runDir, "generation-log.ndjson");
  // Before anything is created: a bad path flag must leave no run dir and no database behind.
  await assertRunPathsUsable({ env: options.env, runDir: options.runDir });
  await mkdir(projectDir, { recursive: true });

  // Opened in this order and closed in reverse, also when a later one rejects its LG_* flags.
  const closers: Array<() => unknown> = [];
  try {
    const memory = startMemoryMonitor({
      env: options.env,
      log: (line) => options.progress.log(line),
    });
    closers.unshift(() => memory.stop());
    const timeLedger = createTimeLedger({ runStartMs: startedAt });
    closers.unshift(() => timeLedger.close());
    // The pools first: their isolates (and the review isolate's compiler) boot while the saver
    // opens and the graph starts.
    const stepRunner = await createStepRunner({
      env: options.env,
      outputDir: options.runDir,
      timeLedger,
      ...(memory.watchdog ? { watchdog: memory.watchdog } : {}),
    });
    closers.unshift(() => stepRunner.close());
    const checkpointer = await openCheckpointer({
      env: options.env,
      runDir: options.runDir,
      timeLedger,
    });
    closers.unshift(() => checkpointer.close());
    await options.onPartsOpen?.({
      watchdog: memory.watchdog,
      stepPool: stepRunner,
      checkpointer: { storageStats: () => checkpointer.storage() },
    });
    const graph = compileCodegenGraph(
      { stepRunner, runDir: options.runDir, generationLogPath, timeLedger },
      checkpointer.saver,
    );
    const config = { configurable: { thread_id: options.threadId } };
    const existing = await graph.getState(config);
    const position = await threadPosition(existing, checkpointer.saver, options.threadId);
    const resumed = position.kind !== "new";
    const spec: ProjectSpec =
      position.kind !== "new"
        ? position.spec
        : {
            projectName: "warehouse-management-system",
            seed: options.seed,
            moduleCount: options.moduleCount,
            targetBytes: options.targetBytes,
            waveSize: stepRunner.threads,
            stateShape: options.stateShape,
            simulatedLatencyMs: options.simulatedLatencyMs ?? 0,
          };
    if (position.kind === "unfinished") {
      const removed = await removeInterruptedWrites(projectDir);
      if (removed > 0)
        options.progress.log(`removed ${removed} partial file(s) left by the interrupted run`);
      options.progress.log(
        `resuming thread ${options.threadId} from its last checkpoint: ${spec.moduleCount} modules of ${formatBytes(spec.targetBytes)}, seed "${spec.seed}", ${spec.stateShape} state (the thread's own workload; options that differ are ignored)`,
      );
    }

    const wavesTotal = Math.ceil(spec.moduleCount / spec.waveSize);
    const earlier = (existing.values.results ?? []) as ModuleResult[];
    const progress = {
      modulesDone: earlier.length,
      modulesTotal: spec.moduleCount,
      wavesDone: (existing.values.wavesDone as number | undefined) ?? 0,
      wavesTotal,
      bytesGenerated: earlier.reduce((total, result) => total + result.bytes, 0),
      memoryLine: memory.statusLine(),
    };
    const disk: DiskSample[] = [];
    let generationSteps = 0;
    let checkpointsThisRun = 0;
    let status: RunReport["status"] = "completed";
    const alreadyFinished = position.kind === "finished";

    if (!alreadyFinished) {
      options.progress.update(progress);
      checkpointer.onCheckpointSaved(async () => {
        checkpointsThisRun++;
        memory.sample();
        disk.push({ step: checkpointsThisRun, bytes: await checkpointer.bytesOnDisk() });
        progress.memoryLine = memory.statusLine();
        options.progress.update(progress);
      });
      try {
        const stream = await graph.stream(resumed ? null : { spec }, {
          ...config,
          streamMode: "updates",
          signal: options.signal,
          recursionLimit: wavesTotal + EXTRA_SUPERSTEPS,
        });
        for await (const chunk of stream as AsyncIterable<Record<string, unknown>>) {
          // Writes saved before the crash are replayed as cached updates; `existing` counted them.
          if (chunk?.__metadata__ !== undefined) continue;
          for (const [node, update] of Object.entries(chunk ?? {})) {
            if (node !== "generate") continue;
            for (const result of (update as { results?: ModuleResult[] })?.results ?? []) {
              progress.modulesDone++;
              progress.bytesGenerated += result.bytes;
              generationSteps += result.attempts;
            }
            progress.wavesDone += (update as { wavesDone?: number })?.wavesDone ?? 0;
          }
        }
      } catch (error) {
        if (!options.signal?.aborted) throw error;
        status = "interrupted";
      }
      options.progress.done();
    }

    const final = await graph.getState(config);
    const results = (final.values.results ?? []) as ModuleResult[];
    const generated = results.filter((result) => result.errorCode === undefined);
    const storage = await checkpointer.storage();
    memory.stop();
    const report: RunReport = {
      threadId: options.threadId,
      runDir: options.runDir,
      projectDir,
      status,
      resumed,
      setup: {
        stateShape: spec.stateShape,
        checkpointer: checkpointer.label,
        steps: stepRunner.mode,
        threads: spec.waveSize,
        watchdog: memory.watchdog !== undefined,
      },
      generationSteps,
      waves: (final.values.wavesDone as number | undefined) ?? 0,
      files: generated.length,
      bytesGenerated: generated.reduce((total, result) => total + result.bytes, 0),
      filesParsed: final.values.summary?.filesParsed ?? 0,
      parseFailures: final.values.summary?.parseFailures ?? 0,
      checkpoints: storage.checkpointCount,
      dbBytes: storage.dbBytes,
      blobBytes: storage.blobBytes,
      checkpointBytesOnDisk: storage.dbBytes + storage.blobBytes,
      largestCheckpointRowBytes: storage.largestCheckpointRowBytes,
      peakMainHeapBytes: memory.peakHeapUsedBytes(),
      peakWorkerHeapBytes:
        stepRunner.mode === "workers"
          ? Math.max(
              final.values.reviewReport?.heapUsedPeakBytes ?? 0,
              ...results.map((result) => result.heapUsedPeakBytes),
            )
          : 0,
      faults: (final.values.faults as number | undefined) ?? 0,
      retries: (final.values.retries as number | undefined) ?? 0,
      stepsByWorker: stepRunner.stepsByWorker(),
      rerunSteps: await countRerunSteps(generationLogPath),
      queueRestarts: stepRunner.queueRestarts(),
      wallMs: Math.round(performance.now() - startedAt),
      timeBreakdown: timeLedger.breakdown(),
      timeline: { heap: memory.samples(), disk },
    };
    await options.onFinished?.(report);
    return report;
  } finally {
    for (const close of closers) await close();
  }
}

/** Generations beyond the first per module id in the log (absent log: none ran here). */
async function countRerunSteps(generationLogPath: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(generationLogPath, "utf8");
  } catch {
    return 0;
  }
  const runs = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const { id } = JSON.parse(line) as { id: string };
    runs.set(id, (runs.get(id) ?? 0) + 1);
  }
  let reruns = 0;
  for (const count of runs.values()) reruns += count - 1;
  return reruns;
}
