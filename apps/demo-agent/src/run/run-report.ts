import type { HeapSample } from "../runtime/memory.js";
import type { TimeBreakdown } from "../runtime/time-ledger.js";

/** Bytes on disk after a checkpoint, for the report's growth chart. */
export interface DiskSample {
  /** Checkpoints written in this run so far. */
  step: number;
  bytes: number;
}

/** Everything a run reports: the summary table, `--json`, and one column of `--compare`. */
export interface RunReport {
  threadId: string;
  runDir: string;
  /** Where the generated project is. */
  projectDir: string;
  status: "completed" | "interrupted";
  /** True when this invocation continued an existing thread. */
  resumed: boolean;
  setup: {
    stateShape: "lean" | "naive";
    checkpointer: string;
    steps: "workers" | "in-process" | "queue";
    threads: number;
    watchdog: boolean;
  };
  /** Generation steps run by this invocation (modules generated, retries included). */
  generationSteps: number;
  /** Waves (supersteps of generation) finished in the thread. */
  waves: number;
  files: number;
  bytesGenerated: number;
  filesParsed: number;
  parseFailures: number;
  checkpoints: number;
  dbBytes: number;
  blobBytes: number;
  checkpointBytesOnDisk: number;
  largestCheckpointRowBytes: number;
  peakMainHeapBytes: number;
  peakWorkerHeapBytes: number;
  faults: number;
  retries: number;
  /** Generation steps this run got back from each queue worker (LG_STEP_QUEUE), by worker id. */
  stepsByWorker: Record<string, number>;
  /**
   * Modules whose generation ran more than once in the thread, counted from the generation log:
   * a worker killed mid-step, a queue that lost its jobs, a retry, a crash before the checkpoint.
   */
  rerunSteps: number;
  /** LG_STEP_QUEUE: steps started again on the queue this run (see StepRunner.queueRestarts). */
  queueRestarts?: number;
  /** From the start of the run (options parsed, modules loaded) to its report. */
  wallMs: number;
  /** `--compare` only: the configuration's process, from spawn to exit, as its parent saw it. */
  processWallMs?: number;
  /** Where the time went (see runtime/time-ledger.ts). */
  timeBreakdown: TimeBreakdown;
  timeline: { heap: HeapSample[]; disk: DiskSample[] };
}
