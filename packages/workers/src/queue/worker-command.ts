import { parseArgs } from "node:util";
import { z } from "zod";
import { stepPoolOptionsFromEnv, watchdogOptionsFromEnv } from "../config.js";
import { LeangraphError, WorkersErrorCode } from "../errors.js";
import { startMemoryWatchdog } from "../watchdog/memory-watchdog.js";
import { startQueueWorker } from "./queue-worker.js";
import { shownRedisUrl } from "./redis-url.js";
import { sharedBlobStoreFromEnv } from "./shared-blob-store.js";

export const workerUsage = `usage: leangraph-worker --steps <module.js> [--steps <more.js>] [options]

Serves the step queue (BullMQ on Redis): runs each step it is sent in a fresh heap-capped
isolate and puts the output in the blob store the agent reads.

  --steps <module>       an ES module whose exports are the steps served, by export name (repeatable)
  --queue <redis-url>    default LG_STEP_QUEUE
  --queue-name <name>    default LG_STEP_QUEUE_NAME, else leangraph-steps
  --concurrency <n>      steps at once; default LG_WORKER_THREADS, else what fits in memory
  --name <id>            shown in results and the demo's summary; default host:pid
  --lock-ms <ms>         a dead worker's step is retaken after this; default 15000
  --stall-check-ms <ms>  how often dead workers' steps are looked for; default 5000
  --max-stalls <n>       workers a step may lose before it fails; default 3

Flags: LG_WORKER_HEAP_MB, LG_STEP_MAX_OUTPUT_MB, LG_MEM_WATCHDOG, LG_MEMORY_PRESET as for the
local pool; the shared store from LG_BLOB_STORE=postgres + LG_CHECKPOINTER=postgres +
LG_POSTGRES_URL, or LG_BLOB_DIR. SIGTERM or Ctrl-C drains: running steps finish, no new ones.`;

const positive = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, "a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

const argsSchema = z.object({
  steps: z.array(z.string().min(1)).min(1, "at least one --steps module"),
  queue: z.string().min(1, "a Redis URL (or set LG_STEP_QUEUE)"),
  "queue-name": z.string().optional(),
  concurrency: positive(256).optional(),
  name: z.string().min(1).optional(),
  "lock-ms": positive(3_600_000).optional(),
  "stall-check-ms": positive(3_600_000).optional(),
  "max-stalls": z.string().regex(/^\d+$/).transform(Number).optional(),
});

/**
 * The `leangraph-worker` command (also `leangraph-demo worker`, which passes its own steps as
 * `defaultSteps`). Resolves with an exit code once the worker has drained after SIGTERM/SIGINT.
 */
export async function runWorkerCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  defaults: { steps?: string[] } = {},
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      steps: { type: "string", multiple: true },
      queue: { type: "string" },
      "queue-name": { type: "string" },
      concurrency: { type: "string" },
      name: { type: "string" },
      "lock-ms": { type: "string" },
      "stall-check-ms": { type: "string" },
      "max-stalls": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${workerUsage}\n`);
    return 0;
  }
  const parsed = argsSchema.safeParse({
    ...values,
    steps: values.steps ?? defaults.steps ?? [],
    queue: values.queue ?? env.LG_STEP_QUEUE ?? "",
  });
  if (!parsed.success) {
    throw new LeangraphError(
      WorkersErrorCode.invalidOption,
      parsed.error.issues.map((issue) => `--${issue.path.join(".")}: ${issue.message}`).join("; "),
      { hint: "leangraph-worker --help lists the options." },
    );
  }
  const args = parsed.data;
  // Every flag is checked before anything connects; LG_STEP_QUEUE's own rules apply to --queue.
  const poolFlags = stepPoolOptionsFromEnv({
    ...env,
    LG_STEP_QUEUE: args.queue,
    ...(args["queue-name"] ? { LG_STEP_QUEUE_NAME: args["queue-name"] } : {}),
  });
  const watchdogOptions = watchdogOptionsFromEnv(env);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const blobStore = await sharedBlobStoreFromEnv(env);
  const watchdog = watchdogOptions.enabled
    ? startMemoryWatchdog({ ...watchdogOptions, log })
    : undefined;
  try {
    const worker = await startQueueWorker({
      connection: args.queue,
      name: poolFlags.queue?.name,
      stepModules: args.steps,
      blobStore,
      // LG_WORKER_THREADS (or memory) unless --concurrency says otherwise.
      concurrency: args.concurrency ?? poolFlags.threads,
      heapMb: poolFlags.heapMb,
      maxOutputBytes: poolFlags.maxOutputBytes,
      ...(args.name ? { workerId: args.name } : {}),
      ...(args["lock-ms"] ? { lockDurationMs: args["lock-ms"] } : {}),
      ...(args["stall-check-ms"] ? { stalledIntervalMs: args["stall-check-ms"] } : {}),
      ...(args["max-stalls"] !== undefined ? { maxStalls: args["max-stalls"] } : {}),
      ...(watchdog ? { watchdog } : {}),
      log,
    });
    log(`queue: ${shownRedisUrl(args.queue)}`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
        resolve();
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    });
    await worker.close();
    const stats = worker.stats();
    log(
      `leangraph-worker ${stats.workerId}: ${stats.succeeded} steps done, ${stats.failed} failed`,
    );
    return 0;
  } finally {
    watchdog?.stop();
    await blobStore.close?.();
  }
}
