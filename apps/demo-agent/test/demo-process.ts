import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** A `leangraph-demo` process (the built CLI, as users run it) and what it has printed so far. */
export interface DemoProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stderr; rejects if the process exits first. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  interrupt(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startDemo(
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): DemoProcess {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
    env: { ...process.env, LG_MEM_LOG_INTERVAL_S: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk) => (out += chunk));
  child.stderr!.on("data", (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = err.match(pattern);
          if (match) {
            clearInterval(timer);
            resolve(match);
          }
        };
        const timer = setInterval(check, 50);
        const deadline = setTimeout(() => {
          clearInterval(timer);
          reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms:\n${err}`));
        }, timeoutMs);
        void exited.then((code) => {
          check();
          clearInterval(timer);
          clearTimeout(deadline);
          reject(new Error(`the demo exited (${code}) before printing ${pattern}:\n${err}`));
        });
        check();
      });
    },
    async interrupt() {
      if (child.exitCode === null) child.kill("SIGINT");
      return exited;
    },
  };
}

/** The value of one sample of a Prometheus text exposition, or undefined when absent. */
export function sampleValue(exposition: string, series: string): number | undefined {
  for (const line of exposition.split("\n")) {
    if (line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    if (line.slice(0, space) === series) return Number(line.slice(space + 1));
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
