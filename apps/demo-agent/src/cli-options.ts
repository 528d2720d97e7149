import { isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseByteSize } from "./byte-size.js";
import { DemoErrorCode, LeangraphError } from "./errors.js";

export const usage = `Usage: leangraph-demo [options]

Runs a codegen agent (a LangGraph StateGraph) that writes a warehouse-management project with a
deterministic offline generator, checkpointing after every wave of modules.

Options:
  --modules N        modules to generate (default 40)
  --size SIZE        bytes per module, e.g. 13kb, 200kb, 2mb (default 13kb)
  --seed TEXT        generator seed; same seed, same bytes (default "leangraph")
  --thread ID        thread id; rerun with the same id to resume after a crash or Ctrl-C
  --run-dir DIR      where the project, checkpoints and logs go (default .lg/runs/<thread>)
  --state lean|naive lean: paths and hashes in state (default); naive: file text in state too
  --step-delay-ms N  simulated model latency per generated module (default 0)
  --json             print the summary as JSON on stdout (progress stays on stderr)
  --compare          run stock, drop-in and leangraph configurations side by side and write
                     an HTML report into the run dir
  --dashboard [PORT] serve a live memory dashboard on 127.0.0.1 (PORT, or a free one) while
                     the agent runs, and keep it up after the run until Ctrl-C
  -h, --help         show this help

  leangraph-demo worker [--concurrency N] [--name ID]
                     serve the step queue (LG_STEP_QUEUE) with the demo's generation step;
                     run one per machine, beside an agent started with LG_STEP_QUEUE

LG_* flags (environment) choose the parts: LG_REDACTING_SERDE, LG_CHECKPOINTER, LG_SQLITE_PATH,
LG_USE_WORKERS, LG_WORKER_THREADS, LG_MEM_WATCHDOG, LG_MEMORY_PRESET, LG_METRICS_PORT (serves
Prometheus /metrics), ... (see the README table).`;

const cliOptionsSchema = z.object({
  modules: z.coerce
    .number({ message: "--modules must be a whole number" })
    .int("--modules must be a whole number")
    .min(1, "--modules must be at least 1")
    .max(100_000, "--modules must be at most 100000"),
  size: z.string().transform((text, context) => {
    try {
      const bytes = parseByteSize(text);
      if (bytes < 256 || bytes > 64 * 1024 * 1024) {
        context.addIssue({
          code: "custom",
          message: `--size ${text} must be between 256b and 64mb`,
        });
        return z.NEVER;
      }
      return bytes;
    } catch (error) {
      context.addIssue({ code: "custom", message: `--size: ${(error as Error).message}` });
      return z.NEVER;
    }
  }),
  seed: z.string().min(1, "--seed must not be empty"),
  thread: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
      "--thread must be 1-128 characters: letters, digits, '.', '_' or '-'",
    )
    .optional(),
  "run-dir": z.string().min(1).optional(),
  "step-delay-ms": z.coerce
    .number({ message: "--step-delay-ms must be a whole number of milliseconds" })
    .int("--step-delay-ms must be a whole number of milliseconds")
    .min(0, "--step-delay-ms must be at least 0")
    .max(600_000, "--step-delay-ms must be at most 600000"),
  state: z.enum(["lean", "naive"], { message: "--state must be lean or naive" }),
  json: z.boolean(),
  compare: z.boolean(),
  dashboard: z
    .string()
    .regex(/^\d{1,5}$/, "--dashboard takes a TCP port from 1 to 65535, or no value for a free port")
    .transform(Number)
    .pipe(z.number().max(65_535, "--dashboard takes a TCP port from 1 to 65535"))
    .optional(),
  help: z.boolean(),
});

export interface DemoOptions {
  moduleCount: number;
  targetBytes: number;
  seed: string;
  threadId: string;
  /** True when `--thread` was given: the run may resume an existing thread. */
  threadGiven: boolean;
  runDir: string;
  stateShape: "lean" | "naive";
  simulatedLatencyMs: number;
  json: boolean;
  compare: boolean;
  /** `--dashboard [PORT]`: the live dashboard's port (0: a free one); undefined without the flag. */
  dashboardPort: number | undefined;
  help: boolean;
}

/** `--dashboard` alone (no port after it) means a free port: node's parseArgs has no optional values. */
function withDashboardValue(argv: string[]): string[] {
  return argv.flatMap((arg, index) => {
    if (arg !== "--dashboard") return [arg];
    const next = argv[index + 1];
    return next !== undefined && /^\d+$/.test(next) ? [arg] : [arg, "0"];
  });
}

/**
 * Parses argv once, at the edge. `baseDir` is where relative paths are resolved: the directory
 * the user typed the command in (pnpm runs scripts inside the package and passes that in
 * INIT_CWD).
 */
export function parseCliOptions(argv: string[], baseDir: string, now = new Date()): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: withDashboardValue(argv),
      strict: true,
      allowPositionals: false,
      options: {
        modules: { type: "string", default: "40" },
        size: { type: "string", default: "13kb" },
        seed: { type: "string", default: "leangraph" },
        thread: { type: "string" },
        "run-dir": { type: "string" },
        state: { type: "string", default: "lean" },
        "step-delay-ms": { type: "string", default: "0" },
        json: { type: "boolean", default: false },
        compare: { type: "boolean", default: false },
        dashboard: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new LeangraphError(DemoErrorCode.invalidOption, (error as Error).message, {
      cause: error,
      hint: "Run leangraph-demo --help for the accepted options.",
    });
  }
  const parsed = cliOptionsSchema.safeParse(values);
  if (!parsed.success) {
    throw new LeangraphError(
      DemoErrorCode.invalidOption,
      parsed.error.issues.map((issue) => issue.message).join("; "),
      { cause: parsed.error, hint: "Run leangraph-demo --help for the accepted options." },
    );
  }
  const options = parsed.data;
  if (options.compare && options.dashboard !== undefined) {
    throw new LeangraphError(
      DemoErrorCode.invalidOption,
      "--dashboard watches one run; --compare runs three configurations in child processes",
      { hint: "Drop one of --dashboard and --compare." },
    );
  }
  const threadId = options.thread ?? defaultThreadId(now);
  const runDir = options["run-dir"] ?? join(".lg", "runs", threadId);
  return {
    moduleCount: options.modules,
    targetBytes: options.size,
    seed: options.seed,
    threadId,
    threadGiven: options.thread !== undefined,
    runDir: isAbsolute(runDir) ? runDir : resolve(baseDir, runDir),
    stateShape: options.state,
    simulatedLatencyMs: options["step-delay-ms"],
    json: options.json,
    compare: options.compare,
    dashboardPort: options.dashboard,
    help: options.help,
  };
}

/** `run-20260122-031500-4f2a`: sortable, unique enough for one person's runs. */
function defaultThreadId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `run-${stamp}-${Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, "0")}`;
}
