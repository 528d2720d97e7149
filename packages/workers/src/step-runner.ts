import { unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import type { StepContent, StepContext, StepFunction } from "./define-step.js";
import { type ErrorData, errorToData, type StepErrorCode, WorkersErrorCode } from "./errors.js";
import { OutputError, writeOutputAtomically } from "./output-writer.js";

/** Everything a worker needs to run one step: plain data, so it crosses threads by clone. */
export interface StepTask {
  moduleUrl: string;
  exportName: string;
  input: unknown;
  outputName: string;
  outputPath: string;
  /** Decided by the main thread so it can remove a half-written file when the worker dies. */
  tempPath: string;
  maxOutputBytes: number;
  /** false only for the boot-time warm-up. @default true */
  durable?: boolean;
}

/** What a step produced. The content itself stays in the file; only this crosses back. */
export interface StepResult {
  /** Absolute path of the written output file. */
  path: string;
  bytes: number;
  /** Lowercase hex sha256 of the file's bytes. */
  sha256: string;
  /** Highest heap use seen in the step's isolate (sampled every few ms and at each chunk). */
  heapUsedPeakBytes: number;
  /** Wall time of the step inside its worker, import to fsync. */
  ms: number;
  /** The worker thread that ran it; distinct for every step (0 when `LG_USE_WORKERS=off`). */
  threadId: number;
}

export type StepOutcome =
  | { ok: true; result: StepResult }
  | { ok: false; code: StepErrorCode; error: ErrorData; threadId: number };

const HEAP_SAMPLE_INTERVAL_MS = 5;

/**
 * Tracks the highest heap use while a step runs. V8 exposes no per-isolate peak, so it samples on
 * a timer (which cannot fire while the step computes synchronously) and also at every point the
 * step hands control back: after `run` returns (the content is still alive then) and per chunk.
 */
class HeapPeakSampler {
  peakBytes = getHeapStatistics().used_heap_size;
  readonly #timer = setInterval(() => this.sample(), HEAP_SAMPLE_INTERVAL_MS).unref();

  sample(): void {
    const used = getHeapStatistics().used_heap_size;
    if (used > this.peakBytes) this.peakBytes = used;
  }

  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.peakBytes;
  }
}

interface SafeParsed {
  success: boolean;
  data?: unknown;
  error?: { issues?: { path: PropertyKey[]; message: string }[] };
}

/** What the worker needs of a zod schema; duck-typed so the runner itself never loads zod. */
interface InputSchema {
  safeParse(value: unknown): SafeParsed;
}

type Resolved =
  | { ok: true; run: StepFunction; schema: InputSchema | undefined }
  | { ok: false; code: StepErrorCode; error: ErrorData };

async function resolveStep(moduleUrl: string, exportName: string): Promise<Resolved> {
  let namespace: Record<string, unknown>;
  try {
    namespace = await import(moduleUrl);
  } catch (error) {
    return { ok: false, code: WorkersErrorCode.stepNotFound, error: errorToData(error) };
  }
  const exported = namespace[exportName];
  if (typeof exported === "function") {
    return { ok: true, run: exported as StepFunction, schema: undefined };
  }
  if (
    exported !== null &&
    typeof exported === "object" &&
    typeof (exported as { run?: unknown }).run === "function" &&
    typeof (exported as { input?: { safeParse?: unknown } }).input?.safeParse === "function"
  ) {
    const definition = exported as { run: StepFunction; input: InputSchema };
    return { ok: true, run: definition.run, schema: definition.input };
  }
  const found = exportName in namespace ? typeof exported : "nothing";
  return {
    ok: false,
    code: WorkersErrorCode.stepNotFound,
    error: errorToData(
      new Error(
        `${moduleUrl} exports ${found} as '${exportName}'; expected a step function or defineStep({ input, run })`,
      ),
    ),
  };
}

function describeIssues(parsed: SafeParsed): string {
  const issues = parsed.error?.issues ?? [];
  return issues
    .map((issue) => `${issue.path.map(String).join(".") || "input"}: ${issue.message}`)
    .join("; ");
}

/**
 * Runs one step to completion and reports the outcome as data. It never throws: whatever goes
 * wrong becomes `{ ok: false, code, error }` so the caller (a worker, or the main thread when
 * workers are off) has a single, clonable shape to return.
 */
export async function runStepToFile(task: StepTask, threadId: number): Promise<StepOutcome> {
  const started = performance.now();
  const sampler = new HeapPeakSampler();
  const fail = (code: StepErrorCode, error: unknown): StepOutcome => {
    sampler.stop();
    return { ok: false, code, error: errorToData(error), threadId };
  };

  const step = await resolveStep(task.moduleUrl, task.exportName);
  if (!step.ok) {
    sampler.stop();
    return { ...step, threadId };
  }

  let input = task.input;
  if (step.schema !== undefined) {
    const parsed = step.schema.safeParse(task.input);
    if (!parsed.success) {
      return fail(
        WorkersErrorCode.inputInvalid,
        new Error(`Input rejected by the step's schema: ${describeIssues(parsed)}`),
      );
    }
    input = parsed.data;
  }

  const context: StepContext = { threadId, outputName: task.outputName };
  let content: StepContent;
  try {
    content = await step.run(input, context);
  } catch (error) {
    return fail(WorkersErrorCode.failed, error);
  }
  sampler.sample();

  try {
    const written = await writeOutputAtomically(content, {
      finalPath: task.outputPath,
      tempPath: task.tempPath,
      maxBytes: task.maxOutputBytes,
      onChunk: () => sampler.sample(),
      durable: task.durable !== false,
    });
    const heapUsedPeakBytes = sampler.stop();
    return {
      ok: true,
      result: {
        path: task.outputPath,
        bytes: written.bytes,
        sha256: written.sha256,
        heapUsedPeakBytes,
        ms: performance.now() - started,
        threadId,
      },
    };
  } catch (error) {
    // An error thrown by the step's own generator while streaming chunks is the step failing.
    return fail(error instanceof OutputError ? error.code : WorkersErrorCode.failed, error);
  }
}

const WARM_UP_MODULE = "data:text/javascript,export function warmUp() { return 'warm'; }";

/**
 * Runs the whole step path once on a built-in step while the isolate boots: V8 compiles
 * functions lazily on first call and the first dynamic import sets up the module loader, and
 * both would otherwise land on the first (and only) real step's latency. The file goes to the
 * OS temp dir, without fsync, and is removed.
 */
export async function warmUpStepPath(threadId: number): Promise<void> {
  const name = `.leangraph-warm-up-${process.pid}-${threadId}`;
  const outputPath = join(tmpdir(), name);
  await runStepToFile(
    {
      moduleUrl: WARM_UP_MODULE,
      exportName: "warmUp",
      input: {},
      outputName: name,
      outputPath,
      tempPath: `${outputPath}.tmp`,
      maxOutputBytes: 64,
      durable: false,
    },
    threadId,
  );
  await unlink(outputPath).catch(() => {});
}
