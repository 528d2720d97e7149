// pnpm --filter @leangraph/demo-agent bench   (or `pnpm bench` from the repo root)
//
// What a user sees from `leangraph-demo --compare`, measured side by side in one run:
//   1. with a model in the loop (20 modules, --step-delay-ms 1000 and 300): stock / leangraph
//      wall time, process start to exit, median of BENCH_RUNS runs (target: at least 1.0);
//   2. at the defaults (40 modules of 13 KB, no model latency): leangraph's extra wall time per
//      step over stock, beside what a fresh isolate costs to boot on this machine, measured here
//      with an idle pool (target: at most 1.5x the boot).
// Every --compare runs its three configurations in child processes, one after another.
import { execFileSync } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createStepPool, ISOLATE_BOOTED_CHANNEL } from "@leangraph/workers";
import { planModule } from "../dist/generator/plan-modules.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BOOTS = 15;
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const generator = fileURLToPath(
  new URL("../dist/generator/generate-module-step.js", import.meta.url),
);
const root = mkdtempSync(join(tmpdir(), "lg-demo-bench-"));

const median = (values) => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const load = () => loadavg()[0].toFixed(1);

/**
 * A fresh isolate's boot on this machine, as the demo boots them (the generator preloaded,
 * the step path warmed up), one at a time with nothing else running in this process.
 */
async function freshIsolateBootMs() {
  const outputDir = join(root, "boots");
  mkdirSync(outputDir, { recursive: true });
  const bootMs = [];
  const onBooted = (event) => {
    if (event.pool === "bench-boot") bootMs.push(event.bootMs);
  };
  subscribe(ISOLATE_BOOTED_CHANNEL, onBooted);
  const pool = createStepPool({
    outputDir,
    name: "bench-boot",
    threads: 1,
    spareWorkers: 0,
    preloadModules: [generator],
  });
  try {
    for (let index = 0; index < BOOTS; index++) {
      const module = planModule("bench", index);
      await pool.run({
        modulePath: generator,
        exportName: "generateModule",
        input: {
          module,
          seed: "bench",
          targetBytes: 13 * 1024,
          generationLogPath: join(outputDir, "log.ndjson"),
        },
        outputName: module.path,
      });
    }
  } finally {
    await pool.close();
    unsubscribe(ISOLATE_BOOTED_CHANNEL, onBooted);
  }
  return bootMs;
}

function compare(args, tag) {
  const runDir = join(root, tag);
  const stdout = execFileSync(
    process.execPath,
    [cli, "--compare", "--json", "--run-dir", runDir, "--thread", tag, ...args],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 256 * 1024 * 1024 },
  );
  rmSync(runDir, { recursive: true, force: true });
  const result = JSON.parse(stdout);
  const byName = Object.fromEntries(result.runs.map((run) => [run.name, run.report]));
  return {
    stock: byName.stock,
    dropIn: byName["drop-in"],
    leangraph: byName.leangraph,
    cost: result.isolationCost,
  };
}

function repeat(args, tag) {
  const runs = [];
  for (let index = 0; index < RUNS; index++) {
    runs.push(compare(args, `${tag}-${index}`));
    process.stderr.write(".");
  }
  return runs;
}

async function main() {
  process.stderr.write(`load average at start: ${load()} (2 cores shared: wall times are noisy)\n`);
  // Boots measured before and after the compares, so the figure sees the machine's load then.
  const bootsBefore = await freshIsolateBootMs();

  const row = (workload, runs) => ({
    workload,
    stockMs: median(runs.map((run) => run.stock.processWallMs)),
    dropInMs: median(runs.map((run) => run.dropIn.processWallMs)),
    leangraphMs: median(runs.map((run) => run.leangraph.processWallMs)),
    ratio: median(runs.map((run) => run.stock.processWallMs / run.leangraph.processWallMs)),
    runRatio: median(runs.map((run) => run.stock.wallMs / run.leangraph.wallMs)),
  });
  const rows = [];
  for (const delayMs of [1000, 300]) {
    const args = ["--modules", "20", "--step-delay-ms", String(delayMs)];
    rows.push({
      ...row(`20 modules, --step-delay-ms ${delayMs}`, repeat(args, `d${delayMs}`)),
      target: true,
    });
  }
  const defaults = repeat([], "defaults");
  const modules = defaults[0].leangraph.files;
  rows.push(row(`defaults: ${modules} modules of 13 KB, no model latency`, defaults));
  const extraPerStepMs = median(
    defaults.map((run) => (run.leangraph.processWallMs - run.stock.processWallMs) / modules),
  );
  const inRunBootMs = median(defaults.map((run) => run.cost.bootMedianMs));
  const bootsAfter = await freshIsolateBootMs();
  const boot = {
    medianMs: median([...bootsBefore, ...bootsAfter]),
    count: bootsBefore.length + bootsAfter.length,
  };
  process.stderr.write("\n");

  const out = [];
  out.push(
    `leangraph-demo --compare, medians of ${RUNS} runs each, wall time from process start to exit`,
  );
  out.push("");
  out.push(
    "| workload | stock | drop-in | leangraph | stock / leangraph (median of the per-run ratios) | same, run only (after startup) |",
  );
  out.push("|---|---:|---:|---:|---:|---:|");
  for (const entry of rows) {
    const verdict = entry.target ? ` (target ≥ 1.0: ${entry.ratio >= 1 ? "met" : "NOT met"})` : "";
    out.push(
      `| ${entry.workload} | ${seconds(entry.stockMs)} | ${seconds(entry.dropInMs)} | ${seconds(entry.leangraphMs)} | **${entry.ratio.toFixed(2)}x**${verdict}, ratio of the medians ${(entry.stockMs / entry.leangraphMs).toFixed(2)}x | ${entry.runRatio.toFixed(2)}x |`,
    );
  }
  out.push("");
  const perBoot = extraPerStepMs / boot.medianMs;
  out.push(
    `At the defaults, leangraph's extra wall time per step over stock: ${extraPerStepMs.toFixed(1)} ms (median of ${RUNS}).`,
  );
  out.push(
    `A fresh isolate's boot on this machine: ${boot.medianMs.toFixed(1)} ms (one at a time in an otherwise idle pool, generator preloaded, median of ${boot.count}: half before the compares, half after); ${inRunBootMs.toFixed(1)} ms inside the leangraph runs (median of their medians; boots there share the CPU with the run).`,
  );
  out.push(
    `Extra per step / boot: **${perBoot.toFixed(2)}x** (target ≤ 1.5x: ${perBoot <= 1.5 ? "met" : "NOT met"}).`,
  );
  out.push("");
  out.push(`load average at end: ${load()}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

try {
  await main();
} finally {
  rmSync(root, { recursive: true, force: true });
}
