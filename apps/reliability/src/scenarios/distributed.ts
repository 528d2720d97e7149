import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import {
  dropSchema,
  postgresUnavailableReason,
  postgresUrl,
  uniqueSchema,
} from "@leangraph/test-postgres";
import { cleanEnv, type RunningChild, startNode, tail } from "../support/child-process.js";
import { openDemoSaver } from "../support/demo-run-dir.js";
import { demoCliPath, packageDir } from "../support/paths.js";
import {
  type PrivateRedis,
  privateRedisUnavailableReason,
  startPrivateRedis,
} from "../support/private-redis.js";
import { ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { randomInt, seededRandom } from "../support/seeded-random.js";
import { compareDemoOutput, type DemoOutput, readDemoOutput } from "./demo-output.js";

export interface DistributedScenarioOptions {
  /** Demo runs, each with its own queue, schema and faults. @default 3 */
  runs?: number;
  /** Worker SIGKILLs per run, at seeded random moments. @default 3 */
  killsPerRun?: number;
  /** @default "leangraph-distributed" */
  seed?: string;
}

const MODULES = 16;
/** Steps in flight: 3 healthy workers x 2. The reference run uses the same wave size. */
const WAVE = "6";
const workload = ["--modules", String(MODULES), "--size", "8kb", "--seed", "distributed-workload"];
const oomStepsModule = join(packageDir, "fixtures", "oom-worker-steps.mjs");

interface Worker {
  name: string;
  running: RunningChild;
}

/**
 * The demo agent on the step queue, with worker processes standing in for machines: 3 healthy
 * `leangraph-demo worker`s and one whose every step runs out of memory, Postgres as the saver and
 * the shared blob store, and a Redis of the scenario's own. During each run, healthy workers are
 * SIGKILLed at seeded random moments (and replaced), and the queue is lost once (FLUSHALL, or a
 * Redis restart without persistence). The finished thread must hold every module exactly once,
 * with project files and state equal to a local run's.
 */
export async function runDistributedScenario(
  options: DistributedScenarioOptions = {},
): Promise<ScenarioResult> {
  const runs = options.runs ?? 3;
  const killsPerRun = options.killsPerRun ?? 3;
  const random = seededRandom(options.seed ?? "leangraph-distributed");
  const recorder = new ScenarioRecorder(
    "distributed",
    "Steps on worker processes over BullMQ: workers SIGKILLed, the queue lost, a worker that OOMs every step; nothing lost or duplicated",
  );
  const unavailable =
    (await postgresUnavailableReason()) ?? (await privateRedisUnavailableReason());
  if (unavailable) return recorder.skip(unavailable);
  const root = await mkdtemp(join(tmpdir(), "lg-rel-distributed-"));
  const redis = await startPrivateRedis();
  try {
    const referenceDir = join(root, "reference");
    const startedAt = performance.now();
    const reference = await demo(referenceDir, "reference", { LG_WORKER_THREADS: WAVE }).done;
    const referenceMs = performance.now() - startedAt;
    if (reference.code !== 0) {
      recorder.failure(`local reference run failed: ${tail(reference.stderr)}`);
      return recorder.finish();
    }
    const saver = openDemoSaver(referenceDir);
    const expected = await readDemoOutput(referenceDir, saver, "reference").finally(() =>
      saver.close(),
    );
    recorder.note(
      `local reference run ${Math.round(referenceMs)} ms, ${expected.files.size} files`,
    );
    const totals = {
      kills: 0,
      flushes: 0,
      restarts: 0,
      oomSteps: 0,
      restarted: 0,
      missing: 0,
      duplicated: 0,
    };
    for (let run = 0; run < runs; run++) {
      await distributedRun(run, { root, redis, random, killsPerRun, expected, recorder, totals });
    }
    recorder.note(
      `${runs} run(s) of ${MODULES} modules: ${totals.kills} worker SIGKILLs, ${totals.flushes} FLUSHALL, ${totals.restarts} Redis restart(s); the OOM worker failed ${totals.oomSteps} step(s); ${totals.restarted} step(s) started again`,
    );
    recorder.note(
      `modules lost from the result: ${totals.missing}; duplicated in it: ${totals.duplicated}`,
    );
  } finally {
    await redis.stop();
    await rm(root, { recursive: true, force: true });
  }
  return recorder.finish();
}

function demo(runDir: string, threadId: string, flags: Record<string, string>): RunningChild {
  return startNode(
    demoCliPath,
    [...workload, "--thread", threadId, "--run-dir", runDir, "--step-delay-ms", "400", "--json"],
    { env: cleanEnv({ LG_MEM_LOG_INTERVAL_S: "0", ...flags }) },
  );
}

async function distributedRun(
  run: number,
  context: {
    root: string;
    redis: PrivateRedis;
    random: () => number;
    killsPerRun: number;
    expected: DemoOutput;
    recorder: ScenarioRecorder;
    totals: Record<
      "kills" | "flushes" | "restarts" | "oomSteps" | "restarted" | "missing" | "duplicated",
      number
    >;
  },
): Promise<void> {
  const { redis, random, recorder, totals } = context;
  const threadId = `distributed-${run}`;
  const runDir = join(context.root, threadId);
  const schema = uniqueSchema(`distributed_${run}`);
  const queueFlags = {
    LG_STEP_QUEUE: redis.url,
    LG_STEP_QUEUE_NAME: `distributed-${run}`,
    LG_CHECKPOINTER: "postgres",
    LG_POSTGRES_URL: postgresUrl,
    LG_POSTGRES_SCHEMA: schema,
    LG_BLOB_STORE: "postgres",
    LG_MEM_LOG_INTERVAL_S: "0",
  };
  const workers: Worker[] = [];
  let spawned = 0;
  const startWorker = (steps?: string, flags: Record<string, string> = {}): Worker => {
    spawned += 1;
    const name = steps ? `oom-${spawned}` : `w${spawned}`;
    const args = [
      "worker",
      "--concurrency",
      "2",
      "--name",
      name,
      "--lock-ms",
      "2000",
      "--stall-check-ms",
      "1000",
    ];
    if (steps) args.push("--steps", steps);
    const worker = {
      name,
      running: startNode(demoCliPath, args, { env: cleanEnv({ ...queueFlags, ...flags }) }),
    };
    workers.push(worker);
    return worker;
  };
  const healthy = () =>
    workers.filter(
      (worker) =>
        !worker.name.startsWith("oom") &&
        worker.running.child.exitCode === null &&
        worker.running.child.signalCode === null,
    );
  try {
    for (let index = 0; index < 3; index++) startWorker();
    const oom = startWorker(oomStepsModule, { LG_WORKER_HEAP_MB: "32" });
    const agent = demo(runDir, threadId, { ...queueFlags, LG_WORKER_THREADS: WAVE });
    // Faults at seeded moments while the agent runs: kills first, the queue loss among them.
    const queueLossAt = randomInt(random, 0, context.killsPerRun);
    const restartInsteadOfFlush = random() < 0.5;
    let faults = 0;
    for (let fault = 0; fault <= context.killsPerRun; fault++) {
      await sleep(randomInt(random, 1_500, 6_000));
      if (agent.child.exitCode !== null) break;
      if (fault === queueLossAt) {
        if (restartInsteadOfFlush) {
          await redis.restart();
          totals.restarts += 1;
        } else {
          await redis.flushAll();
          totals.flushes += 1;
        }
        faults += 1;
        continue;
      }
      const candidates = healthy();
      const victim = candidates[randomInt(random, 0, candidates.length - 1)];
      if (!victim) continue;
      victim.running.child.kill("SIGKILL");
      await victim.running.done;
      totals.kills += 1;
      faults += 1;
      startWorker();
    }
    const outcome = await agent.done;
    recorder.trial();
    for (let index = 0; index < faults; index++) recorder.trial();
    if (outcome.code !== 0) {
      recorder.failure(
        `${threadId}: the agent failed after ${faults} fault(s): ${tail(outcome.stderr)}`,
      );
      return;
    }
    const report = JSON.parse(outcome.stdout) as { files: number; queueRestarts?: number };
    totals.restarted += report.queueRestarts ?? 0;
    oom.running.child.kill("SIGTERM");
    const oomLog = (await oom.running.done).stderr;
    totals.oomSteps += (oomLog.match(/ERR_WORKER_OUT_OF_MEMORY/g) ?? []).length;

    const saver = LeanPostgresSaver.fromConnString(postgresUrl, { schema });
    try {
      const actual = await readDemoOutput(runDir, saver, threadId);
      const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
      const results = (tuple?.checkpoint.channel_values.results ?? []) as Array<{ id: string }>;
      const ids = new Set(results.map((result) => result.id));
      totals.missing += MODULES - ids.size;
      totals.duplicated += results.length - ids.size;
      recorder.lost(MODULES - ids.size, `${threadId}: modules missing from the result`);
      recorder.lost(results.length - ids.size, `${threadId}: modules duplicated in the result`);
      const difference = compareDemoOutput(
        withoutFaultCounts(context.expected),
        withoutFaultCounts(actual),
      );
      if (difference) recorder.failure(`${threadId} after ${faults} fault(s): ${difference}`);
      if (report.files !== MODULES) {
        recorder.failure(`${threadId}: the report counts ${report.files} files, not ${MODULES}`);
      }
    } finally {
      await saver.close();
    }
  } finally {
    for (const worker of workers) worker.running.child.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.running.done.catch(() => undefined)));
    await dropSchema(schema).catch(() => {});
  }
}

/**
 * The state's `faults` and `retries` count what the steps went through (here: the OOM worker's
 * failures), which is the point of this scenario rather than a difference in what it produced.
 */
function withoutFaultCounts(output: DemoOutput): DemoOutput {
  const { faults: _faults, retries: _retries, ...rest } = JSON.parse(output.stateJson);
  return { files: output.files, stateJson: JSON.stringify(rest) };
}
