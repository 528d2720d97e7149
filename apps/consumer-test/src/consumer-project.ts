import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./pack-packages.js";
import { runCommand } from "./run-command.js";

type Manifest = {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

function manifest(relativePath: string): Manifest {
  return JSON.parse(readFileSync(join(repoRoot, relativePath, "package.json"), "utf8")) as Manifest;
}

/**
 * The versions a consumer installs beside the tarballs: the ranges our own manifests declare
 * (what we build and test against), read from them so the two never drift apart.
 */
export function workspaceRanges(): Record<string, string> {
  const checkpointer = manifest("packages/checkpointer");
  const metrics = manifest("packages/metrics");
  const root = manifest(".");
  const pick = (from: Record<string, string> | undefined, name: string): string => {
    const range = from?.[name];
    if (range === undefined) throw new Error(`no range for ${name} in the workspace manifests`);
    return range;
  };
  return {
    "@langchain/core": pick(checkpointer.peerDependencies, "@langchain/core"),
    "@langchain/langgraph": pick(checkpointer.devDependencies, "@langchain/langgraph"),
    "@langchain/langgraph-checkpoint": pick(
      checkpointer.dependencies,
      "@langchain/langgraph-checkpoint",
    ),
    zod: pick(checkpointer.dependencies, "zod"),
    "better-sqlite3": pick(checkpointer.peerDependencies, "better-sqlite3"),
    pg: pick(checkpointer.peerDependencies, "pg"),
    "@types/better-sqlite3": pick(checkpointer.peerDependencies, "@types/better-sqlite3"),
    "@types/pg": pick(checkpointer.peerDependencies, "@types/pg"),
    "@types/node": pick(root.devDependencies, "@types/node"),
    typescript: pick(root.devDependencies, "typescript"),
    "prom-client": pick(metrics.dependencies, "prom-client"),
  };
}

/**
 * The environment of a consumer's npm and node: this process's, minus what pnpm, turbo and vitest
 * add, with PATH as given. pnpm's bin shims set NODE_PATH to the workspace's hoisted store, where
 * require() would find every workspace package (better-sqlite3 included) and hide a missing
 * dependency; npm_config_* from pnpm would change what npm installs; NODE_ENV=production would
 * drop devDependencies. npm_config_nodedir stays: it names the headers of the Node running the
 * suite (`npm test` sets it for the Node 24 it fetches), and without it npm builds better-sqlite3
 * against the machine's npm config (nodedir=/usr: Node 20's headers here), a binary Node 24
 * refuses to load.
 */
export function consumerEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === "npm_config_nodedir") {
      env[name] = value;
      continue;
    }
    if (/^(npm_|pnpm_|PNPM_|TURBO_|VITEST|NODE_ENV$|NODE_OPTIONS$|NODE_PATH$)/.test(name)) continue;
    env[name] = value;
  }
  env.PATH = path;
  return env;
}

export interface ConsumerProject {
  dir: string;
  installMs: number;
}

/**
 * A new npm project in `dir` depending on `dependencies` (tarballs as file: specs), installed
 * with plain `npm install` from the registry and npm's cache, never from the workspace.
 */
export async function installConsumerProject(
  dir: string,
  dependencies: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Promise<ConsumerProject> {
  mkdirSync(dir, { recursive: true });
  const packageJson = { name: "leangraph-consumer", private: true, type: "module", dependencies };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(packageJson, null, 2)}\n`);
  const install = () =>
    runCommand(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
      {
        cwd: dir,
        env,
      },
    );
  try {
    return { dir, installMs: (await install()).ms };
  } catch (error) {
    if (!transientInstallFailure.test(String(error))) throw error;
    // Seen once in CI (2026-12-07, Node 24): with two installs sharing npm's cache, npm reported
    // `ERESOLVE … Found: @langchain/core@undefined` for a range the registry serves; the rerun of
    // the same suite passed. A user would run npm install again, so the test does, once, from a
    // clean project; a real resolution conflict fails the second time too.
    console.info(`[consumer-test] npm install in ${dir} failed transiently; retrying once`);
    rmSync(join(dir, "node_modules"), { recursive: true, force: true });
    rmSync(join(dir, "package-lock.json"), { force: true });
    return { dir, installMs: (await install()).ms };
  }
}

/** npm failures a second attempt can cure: the registry or the shared cache, not the project. */
const transientInstallFailure =
  /npm error code (ERESOLVE|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EINTEGRITY|E5\d\d)\b/;
