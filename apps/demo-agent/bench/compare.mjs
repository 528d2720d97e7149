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
  return { medianMs: median(bootMs), count: bootMs.length };
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
  return { stock: byName.stock, leangraph: byName.leangraph, cost: result.isolationCost };
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
  const boot = await freshIsolateBootMs();

  const rows = [];
  for (const delayMs of [1000, 300]) {
    const runs = repeat(
      ["--modules", "20", "--step-delay-ms", String(delayMs)],
      `delay-${delayMs}`,
    );
    const stockMs = median(runs.map((run) => run.stock.processWallMs));
    const leangraphMs = median(runs.map((run) => run.leangraph.processWallMs));
    const ratio = median(runs.map((run) => run.stock.processWallMs / run.leangraph.processWallMs));
    const runRatio = median(runs.map((run) => run.stock.wallMs / run.leangraph.wallMs));
    rows.push({
      workload: `20 modules, --step-delay-ms ${delayMs}`,
      stockMs,
      leangraphMs,
      ratio,
      runRatio,
    });
  }
  const defaults = repeat([], "defaults");
  const modules = defaults[0].leangraph.files;
  const stockMs = median(defaults.map((run) => run.stock.processWallMs));
  const leangraphMs = median(defaults.map((run) => run.leangraph.processWallMs));
  const extraPerStepMs = median(
    defaults.map((run) => (run.leangraph.processWallMs - run.stock.processWallMs) / modules),
  );
  const inRunBootMs = median(defaults.map((run) => run.cost.bootMedianMs));
  process.stderr.write("\n");

  const out = [];
  out.push(
    `leangraph-demo --compare, medians of ${RUNS} runs each, wall time from process start to exit`,
  );
  out.push("");
  out.push(
    "| workload | stock | leangraph | stock / leangraph (target ≥ 1.0) | same, run only (after startup) |",
  );
  out.push("|---|---:|---:|---:|---:|");
  for (const row of rows) {
    const verdict = row.ratio >= 1 ? "met" : "NOT met";
    out.push(
      `| ${row.workload} | ${seconds(row.stockMs)} | ${seconds(row.leangraphMs)} | **${row.ratio.toFixed(2)}x** (${verdict}) | ${row.runRatio.toFixed(2)}x |`,
    );
  }
  const ratio = median(
    defaults.map((run) => run.stock.processWallMs / run.leangraph.processWallMs),
  );
  out.push(
    `| defaults: ${modules} modules of 13 KB, no model latency | ${seconds(stockMs)} | ${seconds(leangraphMs)} | ${ratio.toFixed(2)}x | ${median(defaults.map((run) => run.stock.wallMs / run.leangraph.wallMs)).toFixed(2)}x |`,
  );
  out.push("");
  const perBoot = extraPerStepMs / boot.medianMs;
  out.push(
    `At the defaults, leangraph's extra wall time per step over stock: ${extraPerStepMs.toFixed(1)} ms (median of ${RUNS}).`,
  );
  out.push(
    `A fresh isolate's boot on this machine: ${boot.medianMs.toFixed(1)} ms (idle pool, generator preloaded, median of ${boot.count}); ${inRunBootMs.toFixed(1)} ms inside the leangraph runs (median of their medians; boots there share the CPU with the run).`,
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
