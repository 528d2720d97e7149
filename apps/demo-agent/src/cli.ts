#!/usr/bin/env node
import { join, relative, resolve } from "node:path";
import { metricsFlagsFromEnv } from "@leangraph/metrics/from-env";
import { runWorkerCommand } from "@leangraph/workers";
import { type DemoOptions, parseCliOptions, usage } from "./cli-options.js";
import { runComparison } from "./compare/run-compare.js";
import { DemoErrorCode } from "./errors.js";
import { runAgent } from "./run/run-agent.js";
import { type RunObservers, startRunObservers } from "./runtime/observers.js";
import { workerStepsPath } from "./runtime/steps.js";
import { createProgressDisplay } from "./ui/progress.js";
import { renderRunSummary } from "./ui/summary-table.js";

/** Exit codes: 0 done, 1 failed, 2 bad options, 130 interrupted (the shell's code for SIGINT). */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

async function main(): Promise<number> {
  // pnpm runs package scripts inside the package; INIT_CWD is where the user typed the command.
  const baseDir = process.env.INIT_CWD ?? process.cwd();
  // `pnpm demo -- --modules 10` passes the `--` through; it separates pnpm's options from ours.
  const argv = process.argv.slice(2);
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  if (args[0] === "worker") {
    // A step-queue worker serving the demo's generation step (see the README's "several machines").
    return runWorkerCommand(args.slice(1), process.env, { steps: [workerStepsPath()] });
  }
  const options = parseCliOptions(args, baseDir);
  if (options.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (options.compare) {
    return runComparison(options);
  }
  return runSingle(options, baseDir);
}

async function runSingle(options: DemoOptions, baseDir: string): Promise<number> {
  const progress = createProgressDisplay(process.stderr);
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) {
      process.stderr.write("\nsecond Ctrl-C: exiting now; the last checkpoint is still on disk\n");
      process.exit(EXIT_INTERRUPTED);
    }
    progress.log("Ctrl-C: stopping; finished modules are already checkpointed …");
    abort.abort();
  };
  // LG_METRICS_* are checked before anything is opened, like every other flag.
  metricsFlagsFromEnv(process.env);
  process.on("SIGINT", onSigint);
  let observers: RunObservers | undefined;
  try {
    const report = await runAgent({
      moduleCount: options.moduleCount,
      targetBytes: options.targetBytes,
      seed: options.seed,
      threadId: options.threadId,
      runDir: options.runDir,
      stateShape: options.stateShape,
      simulatedLatencyMs: options.simulatedLatencyMs,
      env: process.env,
      progress,
      signal: abort.signal,
      onFinished: async (report) => {
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } else {
          process.stdout.write(`\n${renderRunSummary(report)}\n`);
        }
        // The parts stay open meanwhile, so the page and /metrics still read the saver.
        if (observers?.dashboardUrl !== undefined && report.status === "completed") {
          process.off("SIGINT", onSigint);
          process.stderr.write(
            `\nRun finished. The dashboard stays at ${observers.dashboardUrl} until Ctrl-C.\n`,
          );
          await untilInterrupted();
        }
      },
      onPartsOpen: async (parts) => {
        observers = await startRunObservers({
          env: process.env,
          parts,
          dashboardPort: options.dashboardPort,
          title: `leangraph-demo · ${options.threadId}`,
        });
        if (observers.dashboardUrl) progress.log(`dashboard: ${observers.dashboardUrl}`);
        if (observers.metricsUrl) progress.log(`metrics: ${observers.metricsUrl}`);
      },
    });
    if (report.status === "interrupted") {
      process.stderr.write(`\nState saved. Resume with:\n  ${resumeCommand(options, baseDir)}\n`);
      return EXIT_INTERRUPTED;
    }
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    await observers?.close();
  }
}

/** Resolves at the first SIGINT or SIGTERM; holds the event loop open until then. */
function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const stop = () => {
      clearInterval(keepAlive);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

function resumeCommand(options: DemoOptions, baseDir: string): string {
  const defaultRunDir = resolve(baseDir, join(".lg", "runs", options.threadId));
  const relativeRunDir = relative(baseDir, options.runDir);
  // A path that climbs out of the current directory reads better absolute.
  const shownRunDir = relativeRunDir.startsWith("..") ? options.runDir : relativeRunDir || ".";
  const runDir = options.runDir === defaultRunDir ? "" : ` --run-dir ${shownRunDir}`;
  return `leangraph-demo --thread ${options.threadId}${runDir}   (from the repo: pnpm demo -- --thread ${options.threadId}${runDir})`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: { code?: string; message?: string; hint?: string }) => {
    const code = typeof error?.code === "string" ? error.code : undefined;
    process.stderr.write(`leangraph-demo: ${code ? `${code}: ` : ""}${error?.message ?? error}\n`);
    if (error?.hint) process.stderr.write(`hint: ${error.hint}\n`);
    if (!code) process.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
    const usageError = code === DemoErrorCode.invalidOption || code === DemoErrorCode.unusablePath;
    process.exitCode = usageError ? EXIT_USAGE : EXIT_FAILED;
  },
);
