import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const cliPath = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** A fresh temp directory and its removal; every test that touches disk uses its own. */
export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lg-cli-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `leangraph` in a child process, as a user would (stderr is not a terminal). */
export function runLeangraph(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; onStderr?: (chunk: string) => void } = {},
): Promise<CliRun> & { child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    options.onStderr?.(String(chunk));
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  }) as Promise<CliRun> & { child: ReturnType<typeof spawn> };
  done.child = child;
  return done;
}

/** The JSON report of a `--json` run (the whole of stdout). */
export function jsonOf<T = Record<string, any>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch (error) {
    throw new Error(
      `stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Runs `leangraph` and sends `signal` as soon as `ready()` says so (polled every 5 ms): a kill at a
 * point the test observes, not at a guessed time. `sent` is false if the run ended first.
 */
export async function runStoppedWhen(
  args: readonly string[],
  signal: NodeJS.Signals,
  ready: () => Promise<boolean>,
): Promise<{ run: CliRun; sent: boolean }> {
  const run = runLeangraph(args);
  let ended = false;
  void run.then(() => {
    ended = true;
  });
  while (!ended) {
    if (await ready()) {
      run.child.kill(signal);
      return { run: await run, sent: true };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { run: await run, sent: false };
}
