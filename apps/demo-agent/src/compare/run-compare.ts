import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { snapshotDirNodeFlags } from "@leangraph/workers";
import { formatBytes } from "../byte-size.js";
import type { DemoOptions } from "../cli-options.js";
import { DemoErrorCode, LeangraphError } from "../errors.js";
import type { RunReport } from "../run/run-report.js";
import { assertRunPathsUsable } from "../run/writable-paths.js";
import { stepThreadsFromEnv } from "../runtime/steps.js";
import { renderComparison } from "../ui/summary-table.js";
import { type ComparedRun, renderComparisonHtml } from "./html-report.js";
import { describeIsolationCost, isolationCost } from "./isolation-cost.js";

interface Configuration {
  name: string;
  description: string;
  stateShape: "lean" | "naive";
  env: Record<string, string>;
}

/**
 * The three setups of `--compare`. Each differs from the previous one only by what a user would
 * change: first the flags (serializer + saver, graph untouched), then the graph's state shape and
 * the remaining flags.
 */
export const compareConfigurations: Configuration[] = [
  {
    name: "stock",
    description:
      "the agent as people write it today: generated text kept in state, in-process generation, every file reviewed after the last wave, SqliteSaver with the default serializer (every LG_* flag off)",
    stateShape: "naive",
    env: { LG_REDACTING_SERDE: "off", LG_USE_WORKERS: "off", LG_MEM_WATCHDOG: "off" },
  },
  {
    name: "drop-in",
    description:
      "the same unchanged agent (text still in state) with only @leangraph/serde and @leangraph/checkpointer switched on",
    stateShape: "naive",
    env: { LG_REDACTING_SERDE: "on", LG_USE_WORKERS: "off", LG_MEM_WATCHDOG: "off" },
  },
  {
    name: "leangraph",
    description:
      "everything on: lean state (paths and hashes), a fresh worker isolate per generation step with results via files, each wave's files reviewed beside the next wave in one review isolate that loads the compiler once, the lean saver and serializer, the memory watchdog",
    stateShape: "lean",
    env: { LG_REDACTING_SERDE: "on", LG_USE_WORKERS: "on", LG_MEM_WATCHDOG: "on" },
  },
];

const cliPath = () => fileURLToPath(new URL("../cli.js", import.meta.url));

/**
 * Runs the same workload once per configuration, each in its own child process so one run's
 * heap never shows up in another's numbers, then prints them side by side and writes
 * `report.html` into the run dir.
 */
export async function runComparison(options: DemoOptions): Promise<number> {
  await assertRunPathsUsable({ env: process.env, runDir: options.runDir });
  await mkdir(options.runDir, { recursive: true });
  // Same wave size everywhere, so every configuration writes the same number of checkpoints.
  const threads = stepThreadsFromEnv(process.env);

  // Ctrl-C reaches the child too (same process group); it saves its state and reports. This
  // process only has to outlive it to say how to continue.
  const onSigint = () => {
    process.stderr.write("\nCtrl-C: letting the current run save its state …\n");
  };
  process.on("SIGINT", onSigint);
  const runs: ComparedRun[] = [];
  try {
    for (const configuration of compareConfigurations) {
      process.stderr.write(`\n[${configuration.name}] ${configuration.description}\n`);
      const report = await runChild(configuration, options, threads);
      if (report !== "killed by SIGINT") {
        runs.push({ name: configuration.name, description: configuration.description, report });
      }
      if (report === "killed by SIGINT" || report.status !== "completed") {
        process.stderr.write(
          `[${configuration.name}] interrupted; state saved. Rerun the same command with --thread ${options.threadId} --run-dir ${options.runDir} to continue the comparison.\n`,
        );
        return 130;
      }
    }
  } finally {
    process.off("SIGINT", onSigint);
  }

  const workload = `${options.moduleCount} modules of ${formatBytes(options.targetBytes)}, seed "${options.seed}", ${threads} per wave`;
  const reportPath = join(options.runDir, "report.html");
  await writeFile(reportPath, renderComparisonHtml(runs, workload));
  const cost = isolationCost(runs[0]!.report, runs[runs.length - 1]!.report);
  const result = {
    workload,
    reportPath,
    isolationCost: cost,
    runs: runs.map(({ name, report }) => ({ name, report })),
  };
  // The numbers behind the report, for anyone who wants to chart them differently.
  await writeFile(join(options.runDir, "compare.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(
      `\nleangraph-demo --compare: ${workload}\n\n${renderComparison(
        runs.map((run) => run.name),
        runs.map((run) => run.report),
      )}\n\nratios: stock / configuration (higher is better); time rows: wall time with that work in flight (they overlap)\n\n${describeIsolationCost(cost)}\n\nreport: ${reportPath}\n`,
    );
  }
  return 0;
}

/**
 * Runs one configuration as `leangraph-demo --json` in a child process. Resolves "killed by
 * SIGINT" when Ctrl-C reached the child before it installed its own handler (still loading).
 */
function runChild(
  configuration: Configuration,
  options: DemoOptions,
  threads: number,
): Promise<RunReport | "killed by SIGINT"> {
  const args = [
    cliPath(),
    "--json",
    "--modules",
    String(options.moduleCount),
    "--size",
    String(options.targetBytes),
    "--seed",
    options.seed,
    "--thread",
    `${options.threadId}-${configuration.name}`,
    "--run-dir",
    join(options.runDir, configuration.name),
    "--state",
    configuration.stateShape,
    "--step-delay-ms",
    String(options.simulatedLatencyMs),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...configuration.env,
    LG_WORKER_THREADS: String(threads),
  };
  // A user's LG_SQLITE_PATH / LG_BLOB_DIR would make the three runs share storage.
  delete env.LG_SQLITE_PATH;
  delete env.LG_BLOB_DIR;
  return new Promise((resolvePromise, reject) => {
    // V8's near-heap-limit snapshot of a run that runs out of memory lands in LG_SNAPSHOT_DIR.
    const nodeFlags = snapshotDirNodeFlags(env);
    const spawnedMs = performance.now();
    const child = spawn(process.execPath, [...nodeFlags, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    let stderrTail = "";
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    let pending = "";
    child.stderr.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) process.stderr.write(`[${configuration.name}] ${line}\n`);
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-4000);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const text = Buffer.concat(stdout).toString("utf8");
      if (signal === "SIGINT") {
        resolvePromise("killed by SIGINT");
        return;
      }
      // Start to exit is what a user waits for: node and module loading, the run, shutdown.
      const processWallMs = Math.round(performance.now() - spawnedMs);
      let report: RunReport;
      try {
        report = JSON.parse(text) as RunReport;
      } catch (cause) {
        reject(
          new LeangraphError(
            DemoErrorCode.compareRunFailed,
            `the ${configuration.name} run exited with ${signal ?? `code ${code}`} and no result:\n${stderrTail}`,
            { cause },
          ),
        );
        return;
      }
      resolvePromise({ ...report, processWallMs });
    });
  });
}
