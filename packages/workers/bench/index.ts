/**
 * pnpm --filter @leangraph/workers bench [-- --step-delay-ms 1000]
 *
 * Runs bench/measure.mjs (the local pool against warm workers, Worker and fork per step), then
 * bench/queue.mjs (steps over BullMQ against the local pool, at 1, 2 and 4 worker processes), each
 * in a plain `node` process against the built package. Not in this process: tsx registers module
 * hooks process-wide, and every worker isolate would then resolve its imports through them
 * (measured here: isolate boot ~86 ms instead of ~49 ms), which is a cost no production pool pays.
 * `--only local|queue` runs one of the two.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2).filter((arg) => arg !== "--");
const onlyAt = args.indexOf("--only");
const only = onlyAt === -1 ? undefined : args.splice(onlyAt, 2)[1];

function runProgram(file: string, programArgs: string[]): Promise<number> {
  const program = fileURLToPath(new URL(file, import.meta.url));
  const child = spawn(process.execPath, [program, ...programArgs], { stdio: "inherit" });
  return new Promise((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
}

let code = 0;
if (only !== "queue") code ||= await runProgram("./measure.mjs", []);
if (only !== "local") code ||= await runProgram("./queue.mjs", args);
process.exitCode = code;
