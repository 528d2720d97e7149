import { availableParallelism, freemem, tmpdir } from "node:os";
import { join } from "node:path";
import {
  acceptedMemoryPreset,
  MEMORY_PRESET_NAMES,
  MEMORY_PRESETS,
  type MemoryPreset,
  type MemoryPresetName,
} from "@leangraph/errors";
import { z } from "zod";
import { LeangraphError, WorkersErrorCode } from "./errors.js";
import { shownRedisUrl } from "./queue/redis-url.js";

const onOff = z
  .enum(["on", "off", "true", "false", "1", "0"])
  .transform((value) => value === "on" || value === "true" || value === "1");

function integerIn(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

function numberIn(min: number, max: number, { exclusiveMin = false } = {}) {
  const base = z.number();
  return z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number)
    .pipe(exclusiveMin ? base.gt(min).max(max) : base.min(min).max(max));
}

/** Redis URLs only: the queue is BullMQ's, and a typo such as `http://` should fail at start. */
const stepQueueUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol));

/** BullMQ joins the prefix and the name with ':' into Redis keys, so neither may hold one. */
export const stepQueueName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/);

export const DEFAULT_STEP_QUEUE_NAME = "leangraph-steps";

/**
 * The single schema for every LG_* flag this package reads. Each variable is optional; defaults
 * are applied by the option builders below because some depend on the machine (threads).
 */
export const workersEnvSchema = z.object({
  LG_USE_WORKERS: onOff.optional(),
  LG_WORKER_THREADS: integerIn(1, 256).optional(),
  LG_WORKER_HEAP_MB: integerIn(16, 65_536).optional(),
  LG_STEP_TIMEOUT_MS: integerIn(1, 86_400_000).optional(),
  LG_STEP_MAX_OUTPUT_MB: numberIn(0, 65_536, { exclusiveMin: true }).optional(),
  LG_MEM_WATCHDOG: onOff.optional(),
  LG_MEM_LOG_INTERVAL_S: integerIn(0, 86_400).optional(),
  LG_HEAP_THRESHOLD: numberIn(0, 1, { exclusiveMin: true }).optional(),
  LG_SNAPSHOT_DIR: z.string().trim().min(1).optional(),
  LG_MEMORY_PRESET: z
    .string()
    .trim()
    .refine((name) => (MEMORY_PRESET_NAMES as readonly string[]).includes(name))
    .transform((name) => name as MemoryPresetName)
    .optional(),
  LG_STEP_QUEUE: stepQueueUrl.optional(),
  LG_STEP_QUEUE_NAME: stepQueueName.optional(),
});

export type WorkersEnv = z.output<typeof workersEnvSchema>;

/** What each flag accepts, quoted in the error when a value is rejected. */
const ACCEPTED: Record<keyof WorkersEnv, string> = {
  LG_USE_WORKERS: "on|off (also true|false|1|0); default on",
  LG_WORKER_THREADS:
    "an integer from 1 to 256; default: what fits in free memory, at most the cores",
  LG_WORKER_HEAP_MB: "an integer number of MB from 16 to 65536; default 768",
  LG_STEP_TIMEOUT_MS: "an integer number of milliseconds from 1 to 86400000; default 600000",
  LG_STEP_MAX_OUTPUT_MB: "a number of MB greater than 0 (e.g. 64 or 0.5); default 256",
  LG_MEM_WATCHDOG: "on|off (also true|false|1|0); default on",
  LG_MEM_LOG_INTERVAL_S: "an integer number of seconds from 0 (no log line) to 86400; default 60",
  LG_HEAP_THRESHOLD: "a fraction of the heap limit greater than 0 and at most 1; default 0.85",
  LG_SNAPSHOT_DIR: "a non-empty directory path; default <os tmpdir>/leangraph-heap-snapshots",
  LG_MEMORY_PRESET: acceptedMemoryPreset,
  LG_STEP_QUEUE:
    "a Redis URL such as redis://127.0.0.1:6379/0 (rediss:// for TLS); unset runs steps on this machine",
  LG_STEP_QUEUE_NAME: `a queue name of letters, digits, '.', '_' or '-' (no ':'), up to 100 characters; default ${DEFAULT_STEP_QUEUE_NAME}`,
};

/** The preset LG_MEMORY_PRESET names (the table is @leangraph/errors' MEMORY_PRESETS), if any. */
function presetOf(flags: WorkersEnv): Readonly<MemoryPreset> | undefined {
  return flags.LG_MEMORY_PRESET === undefined ? undefined : MEMORY_PRESETS[flags.LG_MEMORY_PRESET];
}

/**
 * Parses every LG_* flag of this package at once and fails fast, naming each rejected variable,
 * the value it had, and what is accepted. Empty strings count as unset.
 */
export function parseWorkersEnv(env: NodeJS.ProcessEnv = process.env): WorkersEnv {
  const relevant: Record<string, string> = {};
  for (const name of Object.keys(ACCEPTED)) {
    const value = env[name];
    if (value !== undefined && value !== "") relevant[name] = value;
  }
  const parsed = workersEnvSchema.safeParse(relevant);
  if (parsed.success) return parsed.data;
  const problems = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))].map(
    (name) =>
      `${name}=${JSON.stringify(name === "LG_STEP_QUEUE" ? shownRedisUrl(relevant[name] ?? "") : relevant[name])} is not accepted: expected ${ACCEPTED[name as keyof WorkersEnv]}`,
  );
  throw new LeangraphError(WorkersErrorCode.invalidOption, problems.join("; "), {
    cause: parsed.error,
    hint: "Fix or unset the variable(s) named above.",
  });
}

export const DEFAULT_WORKER_HEAP_MB = 768;
export const DEFAULT_STEP_TIMEOUT_MS = 600_000;
export const DEFAULT_STEP_MAX_OUTPUT_MB = 256;

/**
 * A worker's memory is its old-generation cap plus young generation, code and thread stacks;
 * 64 MB covers that overhead for the isolates we boot.
 */
const WORKER_OVERHEAD_MB = 64;

/**
 * Default parallelism: as many workers as can each reach their heap cap in the memory the OS
 * reports available, never more than the cores (more would only time-slice the same CPUs).
 */
export function defaultWorkerThreads(heapMb: number): number {
  const availableBytes =
    typeof process.availableMemory === "function" ? process.availableMemory() : freemem();
  const fitting = Math.floor(availableBytes / ((heapMb + WORKER_OVERHEAD_MB) * 1024 * 1024));
  return Math.max(1, Math.min(availableParallelism(), fitting));
}

/** The step-pool options the LG_* flags control, with their defaults applied. */
export interface StepPoolEnvOptions {
  useWorkers: boolean;
  threads: number;
  heapMb: number;
  stepTimeoutMs: number;
  maxOutputBytes: number;
  /** LG_STEP_QUEUE / LG_STEP_QUEUE_NAME: where steps go instead of this machine's isolates. */
  queue?: { connection: string; name: string };
}

/** Explicit flags win; LG_MEMORY_PRESET fills in the heap cap and caps the default threads. */
export function stepPoolOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StepPoolEnvOptions {
  const flags = parseWorkersEnv(env);
  const preset = presetOf(flags);
  const heapMb = flags.LG_WORKER_HEAP_MB ?? preset?.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB;
  const fitting = defaultWorkerThreads(heapMb);
  return {
    useWorkers: flags.LG_USE_WORKERS ?? true,
    threads: flags.LG_WORKER_THREADS ?? Math.min(fitting, preset?.maxWorkerThreads ?? fitting),
    heapMb,
    stepTimeoutMs: flags.LG_STEP_TIMEOUT_MS ?? DEFAULT_STEP_TIMEOUT_MS,
    maxOutputBytes: Math.floor(
      (flags.LG_STEP_MAX_OUTPUT_MB ?? DEFAULT_STEP_MAX_OUTPUT_MB) * 1024 * 1024,
    ),
    ...(flags.LG_STEP_QUEUE === undefined
      ? {}
      : {
          queue: {
            connection: flags.LG_STEP_QUEUE,
            name: flags.LG_STEP_QUEUE_NAME ?? DEFAULT_STEP_QUEUE_NAME,
          },
        }),
  };
}

export const DEFAULT_HEAP_THRESHOLD = 0.85;
export const DEFAULT_MEM_LOG_INTERVAL_S = 60;
export const DEFAULT_SNAPSHOT_DIR = join(tmpdir(), "leangraph-heap-snapshots");

/** The watchdog options the LG_* flags control, with their defaults applied. */
export interface WatchdogEnvOptions {
  enabled: boolean;
  logIntervalS: number;
  heapThreshold: number;
  snapshotDir: string;
  /** Where the pressure levels start; from LG_MEMORY_PRESET, else the watchdog's defaults. */
  levels: { medium: number; high: number; critical: number } | undefined;
}

/** Explicit flags win; LG_MEMORY_PRESET fills in the snapshot threshold and the pressure levels. */
export function watchdogOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): WatchdogEnvOptions {
  const flags = parseWorkersEnv(env);
  const preset = presetOf(flags);
  return {
    enabled: flags.LG_MEM_WATCHDOG ?? true,
    logIntervalS: flags.LG_MEM_LOG_INTERVAL_S ?? DEFAULT_MEM_LOG_INTERVAL_S,
    heapThreshold:
      flags.LG_HEAP_THRESHOLD ?? preset?.heapSnapshotThreshold ?? DEFAULT_HEAP_THRESHOLD,
    snapshotDir: flags.LG_SNAPSHOT_DIR ?? DEFAULT_SNAPSHOT_DIR,
    levels: preset === undefined ? undefined : { ...preset.pressureLevels },
  };
}
