import { spawn } from "node:child_process";

export interface CommandResult {
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CommandOptions {
  cwd: string;
  /** The whole environment of the child (not merged), so a test controls PATH exactly. */
  env: NodeJS.ProcessEnv;
}

const shownTailChars = 4000;

/**
 * Runs a command to completion without a shell (so several installs can run at once) and
 * rejects, with the tail of its output, when it exits non-zero: a failed install must show why.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<CommandResult> {
  const startedMs = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - startedMs;
      if (code === 0) {
        resolve({ stdout, stderr, ms });
        return;
      }
      const output = `${stdout}\n${stderr}`.trim();
      reject(
        new Error(
          `${command} ${args.join(" ")} (in ${options.cwd}) exited with ${code ?? signal}:\n${output.slice(-shownTailChars)}`,
        ),
      );
    });
  });
}

/** Runs a consumer app that prints one JSON line as its result, and parses that line. */
export async function runJsonApp(
  args: readonly string[],
  options: CommandOptions,
): Promise<Record<string, unknown>> {
  const { stdout } = await runCommand(process.execPath, args, options);
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(lastLine) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${args.join(" ")} printed no JSON result:\n${stdout.slice(-shownTailChars)}`, {
      cause: error,
    });
  }
}
