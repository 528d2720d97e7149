/**
 * pnpm --filter @leangraph/workers bench
 *
 * Runs bench/measure.mjs in a plain `node` process against the built package. Not in this
 * process: tsx registers module hooks process-wide, and every worker isolate would then resolve
 * its imports through them (measured here: isolate boot ~86 ms instead of ~49 ms), which is a
 * cost no production pool pays.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const measure = fileURLToPath(new URL("./measure.mjs", import.meta.url));
const child = spawn(process.execPath, [measure], { stdio: "inherit" });
child.on("exit", (code: number | null) => {
  process.exitCode = code ?? 1;
});
