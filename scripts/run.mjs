#!/usr/bin/env node
// One entry point for the README's Quick start: works on a machine that has only Node and npm.
// It makes sure the pinned pnpm is on PATH (turbo needs it there), installs the workspace
// (better-sqlite3 compiles from source on first install), then runs the requested job.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
    ["pnpm", "exec", "turbo", "run", "test", "--concurrency=1"],
  ],
};

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
function printTestTotals() {
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
  console.log(`\nleangraph: ${passed} passed, ${failed} failed, ${skipped} skipped`);
}

ensurePnpm();
if (job === "test") for (const file of testResultFiles) rmSync(file, { force: true });
const installArgs = ["install", process.env.CI ? "--frozen-lockfile" : "--prefer-offline"];
let status = run("pnpm", installArgs);
if (status !== 0) process.exit(status);
for (const [command, ...args] of jobs[job]) {
  status = run(command, args);
  if (job === "test" && args.includes("test")) printTestTotals();
  if (status !== 0) process.exit(status);
}
