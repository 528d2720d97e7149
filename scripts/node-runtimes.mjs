// The Node versions `npm test` runs the suites on, and what each one needs: a Node binary and the
// native SQLite driver (better-sqlite3) built for that Node's ABI.
//
// Node 24 comes from npm's `node-<platform>-<arch>` package into .tools/, so CI needs nothing but
// the Node it starts with. better-sqlite3 loads its addon through `bindings`, which looks in
// build/Release first and then in lib/binding/node-v<ABI>-<platform>-<arch>/: each Node gets its
// own binary in the second place and build/Release is emptied, so one install serves both
// versions and neither run can load the other's binary ("compiled against a different Node.js
// version").
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";

/** The Node the whole suite runs on: the current LTS, pinned so CI runs are comparable. */
export const PRIMARY_NODE_VERSION = "24.22.3";

/** Installs (once) `node-<platform>-<arch>@version` into the tools dir; returns its `node` binary. */
export function installNode(version, toolsDir, run) {
  const prefix = join(toolsDir, `node-${version}`);
  const packageName = `node-${process.platform}-${process.arch}`;
  const nodeBin = join(prefix, "node_modules", packageName, "bin", "node");
  if (existsSync(nodeBin)) return nodeBin;
  console.log(`[leangraph] installing Node ${version} (${packageName} from npm) into .tools/ …`);
  const status = run("npm", [
    "install",
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--prefix",
    prefix,
    `${packageName}@${version}`,
  ]);
  if (status !== 0 || !existsSync(nodeBin)) {
    throw new Error(`could not install Node ${version} from npm (${packageName})`);
  }
  return nodeBin;
}

function nodeAbi(nodeBin) {
  return execFileSync(nodeBin, ["-p", "process.versions.modules"], { encoding: "utf8" }).trim();
}

function loads(nodeBin, addonPath) {
  return spawnSync(nodeBin, ["-e", `require(${JSON.stringify(addonPath)})`]).status === 0;
}

/** Every better-sqlite3 copy in the workspace's virtual store (one per version in the lockfile). */
function sqlitePackageDirs(root) {
  const store = join(root, "node_modules", ".pnpm");
  if (!existsSync(store)) return [];
  return readdirSync(store)
    .filter((name) => name.startsWith("better-sqlite3@"))
    .map((name) => join(store, name, "node_modules", "better-sqlite3"));
}

/** npm's own node-gyp, which sits beside npm in the global modules. */
function nodeGypScript() {
  const npmRoot = execFileSync("npm", ["root", "-g"], { encoding: "utf8" }).trim();
  return join(npmRoot, "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
}

/**
 * The environment for running `nodeBin` and what it starts: its directory first on PATH, and,
 * for a Node from npm (it carries its headers in include/node), `npm_config_nodedir` pointing at
 * them. Without that, a native build under it (node-gyp, or `npm install` in the consumer test)
 * follows the machine's npm config (nodedir=/usr holds Node 20's headers here) and produces a
 * binary Node 24 refuses to load.
 */
export function nodeEnv(nodeBin, baseEnv) {
  const env = { ...baseEnv, PATH: `${dirname(nodeBin)}${delimiter}${baseEnv.PATH ?? ""}` };
  const nodeDir = dirname(dirname(nodeBin));
  if (existsSync(join(nodeDir, "include", "node", "node.h"))) env.npm_config_nodedir = nodeDir;
  return env;
}

/**
 * Compiles the addon for `nodeBin` in a private copy of the package: the installed files are
 * hard links shared with pnpm's store (and every other checkout using it), so building in place
 * could rewrite their bytes.
 */
function buildAddon(nodeBin, packageDir, target) {
  const work = mkdtempSync(join(tmpdir(), "lg-sqlite-build-"));
  try {
    cpSync(packageDir, work, {
      recursive: true,
      filter: (source) => !source.startsWith(join(packageDir, "build")),
    });
    const env = nodeEnv(nodeBin, process.env);
    const nodeDir = env.npm_config_nodedir;
    const args = [
      nodeGypScript(),
      "rebuild",
      "--release",
      ...(nodeDir === undefined ? [] : [`--nodedir=${nodeDir}`]),
    ];
    console.log(`[leangraph] building better-sqlite3 for Node ABI ${nodeAbi(nodeBin)} …`);
    const result = spawnSync(nodeBin, args, {
      cwd: work,
      env,
      stdio: ["ignore", "ignore", "inherit"],
    });
    const built = join(work, "build", "Release", "better_sqlite3.node");
    if (result.status !== 0 || !existsSync(built)) {
      throw new Error(
        `building better-sqlite3 for ${nodeBin} failed (node-gyp exit ${result.status})`,
      );
    }
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(built, target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Gives every Node in `nodeBins` its own better-sqlite3 binary under lib/binding/, reusing the
 * one `pnpm install` compiled for the Node it ran with, then empties build/Release so `bindings`
 * picks the binary by ABI.
 */
export function prepareSqliteBindings(root, nodeBins) {
  for (const packageDir of sqlitePackageDirs(root)) {
    const installed = join(packageDir, "build", "Release", "better_sqlite3.node");
    for (const nodeBin of nodeBins) {
      const abiDir = `node-v${nodeAbi(nodeBin)}-${process.platform}-${process.arch}`;
      const target = join(packageDir, "lib", "binding", abiDir, "better_sqlite3.node");
      if (existsSync(target) && loads(nodeBin, target)) continue;
      if (existsSync(installed) && loads(nodeBin, installed)) {
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(installed, target);
      } else {
        buildAddon(nodeBin, packageDir, target);
      }
    }
    // Unlinks this checkout's name only; the store's copy keeps its bytes.
    rmSync(installed, { force: true });
  }
}
