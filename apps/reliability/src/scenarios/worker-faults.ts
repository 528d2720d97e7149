import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStepPool, type StepPool } from "@leangraph/workers";
import { faultStepsModule } from "../support/paths.js";
import { expectThat, ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { seededRandom } from "../support/seeded-random.js";

export interface WorkerFaultScenarioOptions {
  /** @default 200 */
  steps?: number;
  /** @default 2 */
  threads?: number;
  /** @default "leangraph-faults" */
  seed?: string;
}

/** Each kind of step, what it is asked to do, and the only acceptable ending. */
const kinds = {
  ok: { exportName: "ok", expect: "result" },
  oom: { exportName: "oom", expect: "ERR_WORKER_OUT_OF_MEMORY" },
  timeout: { exportName: "hang", expect: "ERR_LG_STEP_TIMEOUT" },
  throw: { exportName: "fail", expect: "ERR_LG_STEP_FAILED" },
  exit: { exportName: "exit", expect: "ERR_LG_STEP_EXITED" },
  oversized: { exportName: "oversized", expect: "ERR_LG_STEP_OUTPUT_TOO_LARGE" },
  invalidOutput: { exportName: "notContent", expect: "ERR_LG_STEP_OUTPUT_INVALID" },
} as const;

type Kind = keyof typeof kinds;
const faultKinds: Kind[] = ["oom", "timeout", "throw", "exit", "oversized", "invalidOutput"];

/** Half healthy steps, the other half spread over every fault, shuffled by the seed. */
function planSteps(count: number, random: () => number): Kind[] {
  const plan: Kind[] = [];
  for (let index = 0; index < count; index++) {
    plan.push(index % 2 === 0 ? "ok" : faultKinds[Math.floor(index / 2) % faultKinds.length]!);
  }
  for (let index = plan.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [plan[index], plan[other]] = [plan[other]!, plan[index]!];
  }
  return plan;
}

/**
 * Runs a seeded mix of healthy and faulty steps through one step pool at once: the main process
 * must survive every fault, each step must end with its output or its own typed error (never a
 * generic one, never a hang), no partial output may remain, and the pool must end at its size.
 */
export async function runWorkerFaultScenario(
  options: WorkerFaultScenarioOptions = {},
): Promise<ScenarioResult> {
  const stepCount = options.steps ?? 200;
  const threads = options.threads ?? 2;
  const recorder = new ScenarioRecorder(
    "worker-faults",
    "Steps that OOM, hang, throw, exit or write too much: typed errors, pool intact",
  );
  const outputDir = await mkdtemp(join(tmpdir(), "lg-rel-faults-"));
  const maxOutputBytes = 256 * 1024;
  let pool: StepPool | undefined;
  const poolFaults: string[] = [];
  try {
    pool = createStepPool({
      outputDir,
      threads,
      // A small heap cap so an OOM costs ~32 MB; hangs get their own short budget below, the
      // others a generous one, so an OOM slowed by GC thrash on a busy machine is not a timeout.
      heapMb: 32,
      stepTimeoutMs: 60_000,
      maxOutputBytes,
    });
    pool.on("fault", (fault) => poolFaults.push(fault.code));
    const plan = planSteps(stepCount, seededRandom(options.seed ?? "leangraph-faults"));
    const counts = new Map<string, number>();
    const outcomes = await Promise.all(
      plan.map(async (kind, index) => {
        const outputName = `step-${String(index).padStart(4, "0")}.txt`;
        try {
          const result = await pool!.run({
            modulePath: faultStepsModule,
            exportName: kinds[kind].exportName,
            input: kind === "oversized" ? { chunkKb: 64, chunks: 8 } : { index },
            outputName,
            ...(kind === "timeout" ? { timeoutMs: 400 } : {}),
          });
          return { kind, index, outputName, code: "result", path: result.path };
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          return {
            kind,
            index,
            outputName,
            code: typeof code === "string" ? code : `untyped ${String(error)}`,
          };
        }
      }),
    );
    for (const outcome of outcomes) {
      recorder.trial();
      counts.set(outcome.kind, (counts.get(outcome.kind) ?? 0) + 1);
      const expected = kinds[outcome.kind].expect;
      if (outcome.code !== expected) {
        recorder.failure(
          `step ${outcome.index} (${outcome.kind}) ended with ${outcome.code}, expected ${expected}`,
        );
        continue;
      }
      if (outcome.kind === "ok") {
        const text = await readFile(join(outputDir, outcome.outputName), "utf8").catch(
          () => undefined,
        );
        if (text !== `step ${outcome.index} ok\n`) {
          recorder.lost(1, `step ${outcome.index}: output missing or wrong`);
        }
      }
    }
    const leftovers = (await readdir(outputDir)).filter((name) => name.endsWith(".tmp"));
    if (leftovers.length > 0)
      recorder.failure(`${leftovers.length} partial output file(s) left: ${leftovers[0]}`);
    const failedOutputs = outcomes.filter((outcome) => outcome.kind !== "ok");
    for (const outcome of failedOutputs) {
      const exists = await readFile(join(outputDir, outcome.outputName)).then(
        () => true,
        () => false,
      );
      if (exists)
        recorder.failure(`failed step ${outcome.index} (${outcome.kind}) left an output file`);
    }
    const stats = pool.stats();
    await recorder.check("pool ends at its configured size and still runs steps", async () => {
      expectThat(stats.threads === threads, `pool threads ${stats.threads}, configured ${threads}`);
      expectThat(
        stats.concurrency === threads,
        `pool concurrency ${stats.concurrency}, configured ${threads}`,
      );
      expectThat(
        stats.running === 0 && stats.waiting === 0,
        `pool still busy: ${JSON.stringify(stats)}`,
      );
      const after = await Promise.all(
        Array.from({ length: threads * 2 }, (_, index) =>
          pool!.run({
            modulePath: faultStepsModule,
            exportName: "ok",
            input: { index: 10_000 + index },
            outputName: `after-${index}.txt`,
          }),
        ),
      );
      expectThat(after.length === threads * 2, "healthy steps after the faults did not all finish");
    });
    recorder.note(
      `${stepCount} steps on ${threads} threads: ${[...counts].map(([kind, count]) => `${kind} ${count}`).join(", ")}; main process survived all; pool ${stats.succeeded} ok / ${stats.failed} failed, ${poolFaults.length} pool fault(s)`,
    );
    return recorder.finish();
  } finally {
    await pool?.close();
    await rm(outputDir, { recursive: true, force: true });
  }
}
