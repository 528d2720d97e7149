import { type ChildProcess, spawn } from "node:child_process";
import { packageDir } from "./paths.js";

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningChild {
  child: ChildProcess;
  done: Promise<ChildOutcome>;
}

/**
 * Spawns `node [--import tsx] [...nodeFlags] <program> ...args` with its own env. Children run
 * from the package directory so `--import tsx` resolves the workspace's tsx.
 */
export function startNode(
  program: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; typescript?: boolean; ipc?: boolean; nodeFlags?: string[] },
): RunningChild {
  const nodeArgs = [
    ...(options.typescript ? ["--import", "tsx"] : []),
    ...(options.nodeFlags ?? []),
    program,
    ...args,
  ];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: packageDir,
    env: options.env,
    stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<ChildOutcome>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Last lines of a child's stderr, for failure messages. */
export function tail(text: string, lines = 6): string {
  return text.trim().split("\n").slice(-lines).join(" | ");
}

/** The environment children get: the parent's, minus every LG_* flag, plus `flags`. */
export function cleanEnv(flags: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("LG_") || name === "LG_POSTGRES_URL") env[name] = value;
  }
  return { ...env, ...flags };
}
