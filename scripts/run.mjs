#!/usr/bin/env node
// One entry point for the README's Quick start: works on a machine that has only Node and npm.
// It makes sure the pinned pnpm is on PATH (turbo needs it there), installs the workspace
// (better-sqlite3 compiles from source on first install), then runs the requested job.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  installNode,
  nodeEnv,
  PRIMARY_NODE_VERSION,
  prepareSqliteBindings,
} from "./node-runtimes.mjs";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const pinnedPnpm = "10.34.9";
const toolsDir = join(root, ".tools");

const jobs = {
  demo: [
    ["pnpm", "exec", "turbo", "run", "build", "--filter=@leangraph/demo-agent..."],
    ["pnpm", "--filter", "@leangraph/demo-agent", "run", "demo", ...process.argv.slice(3)],
  ],
  test: [
    ["pnpm", "run", "lint"],
    ["pnpm", "exec", "turbo", "run", "build", "typecheck"],
  ],
};

// `npm test` runs every suite on Node 24 (the current LTS, what people deploy), then again on the
// Node it was started with (Node 20 in CI: the oldest `engines` allows) the suites whose
// behaviour depends on the Node version: V8 heap sizing and worker isolates (workers), the
// native SQLite driver and LangGraph's saver validation (checkpointer), the CLI over both, and a
// clean install of the packed packages (consumer-test). The rest (serde, metrics, the demo,
// reliability) runs on Node 24 only; repeating them on 20 would roughly double CI time.
const NODE_DEPENDENT_SUITES = [
  "@leangraph/workers",
  "@leangraph/checkpointer",
  "@leangraph/cli",
  "@leangraph/consumer-test",
];

const job = process.argv[2];
if (!job || !(job in jobs)) {
  console.error(`usage: node scripts/run.mjs <${Object.keys(jobs).join("|")}> [args…]`);
  process.exit(2);
}

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1" };

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit", ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function pnpmVersionOnPath() {
  const result = spawnSync("pnpm", ["--version"], { env, encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

// corepack needs COREPACK_INTEGRITY_KEYS=0 on some machines and is absent from others,
// so the pinned pnpm is installed with npm into a project-local folder instead.
function ensurePnpm() {
  const localBin = join(toolsDir, "node_modules", ".bin");
  env.PATH = `${localBin}${delimiter}${env.PATH ?? ""}`;
  if (pnpmVersionOnPath() === pinnedPnpm) return;
  if (!existsSync(join(localBin, "pnpm"))) {
    console.log(`[leangraph] installing pnpm@${pinnedPnpm} into .tools/ …`);
    const status = run("npm", [
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--prefix",
      toolsDir,
      `pnpm@${pinnedPnpm}`,
    ]);
    if (status !== 0) process.exit(status);
  }
  const version = pnpmVersionOnPath();
  if (version !== pinnedPnpm) {
    console.error(`[leangraph] expected pnpm ${pinnedPnpm} on PATH, found ${version ?? "none"}`);
    process.exit(1);
  }
}

const testResultFiles = ["packages", "apps"].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name, ".vitest-results.json")),
);

/** One closing line over every package's vitest JSON report, so CI logs say what ran. */
function printTestTotals(label) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of testResultFiles) {
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  }
  console.log(`\nleangraph (${label}): ${passed} passed, ${failed} failed, ${skipped} skipped`);
}

/** Runs the suites on each Node in turn (both, even when the first fails); returns the exit status. */
function runTestSuites() {
  const runningMajor = Number(process.versions.node.split(".")[0]);
  const primaryMajor = Number(PRIMARY_NODE_VERSION.split(".")[0]);
  const runs = [
    runningMajor === primaryMajor
      ? { nodeBin: process.execPath, label: `Node ${process.versions.node}`, filters: [] }
      : {
          nodeBin: installNode(PRIMARY_NODE_VERSION, toolsDir, run),
          label: `Node ${PRIMARY_NODE_VERSION}`,
          filters: [],
        },
  ];
  if (runningMajor !== primaryMajor) {
    runs.push({
      nodeBin: process.execPath,
      label: `Node ${process.versions.node}, ${NODE_DEPENDENT_SUITES.join(" ")}`,
      filters: NODE_DEPENDENT_SUITES.map((name) => `--filter=${name}`),
    });
  }
  prepareSqliteBindings(
    root,
    runs.map((testRun) => testRun.nodeBin),
  );
  let worst = 0;
  for (const testRun of runs) {
    for (const file of testResultFiles) rmSync(file, { force: true });
    console.log(`\n[leangraph] tests on ${testRun.label}`);
    const status = run(
      "pnpm",
      ["exec", "turbo", "run", "test", "--concurrency=1", ...testRun.filters],
      { env: nodeEnv(testRun.nodeBin, env) },
    );
    printTestTotals(testRun.label);
    if (status !== 0) worst = status;
  }
  return worst;
}

ensurePnpm();
const installArgs = ["install", process.env.CI ? "--frozen-lockfile" : "--prefer-offline"];
let status = run("pnpm", installArgs);
if (status !== 0) process.exit(status);
for (const [command, ...args] of jobs[job]) {
  status = run(command, args);
  if (status !== 0) process.exit(status);
}
if (job === "test") process.exit(runTestSuites());
