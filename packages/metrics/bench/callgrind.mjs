/**
 * Counting CPU instructions with callgrind (valgrind), for the benches that compare a chat turn's
 * cost between arms: a count does not move when other processes share the cores.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Instructions one Node process spends running `script` with `args`. `--single-threaded` keeps
 * V8's compiler and GC work on the counted thread, in a fixed order. `what` names the run in the
 * error when callgrind writes no summary; `showErrors` passes the script's stderr through.
 */
export function countInstructions(script, args, what, { showErrors = false } = {}) {
  const out = join(tmpdir(), `lg-callgrind-${process.pid}-${Date.now()}.out`);
  execFileSync(
    "valgrind",
    [
      "--tool=callgrind",
      `--callgrind-out-file=${out}`,
      process.execPath,
      "--single-threaded",
      script,
      ...args,
    ],
    { stdio: ["ignore", "ignore", showErrors ? "inherit" : "ignore"] },
  );
  const summary = /^summary: (\d+)/m.exec(readFileSync(out, "utf8"));
  rmSync(out, { force: true });
  if (!summary) throw new Error(`callgrind wrote no summary for ${what}`);
  return Number(summary[1]);
}

/**
 * Instructions per turn: the difference between a long and a short run of the same arm, divided
 * by the turns between them, which cancels Node's start-up. `argsFor(turns)` gives the script's
 * arguments for a run of that many turns.
 */
export function instructionsPerTurn(script, argsFor, [shortRun, longRun], what, options) {
  const count = (turns) =>
    countInstructions(script, argsFor(turns), `${what}, ${turns} turns`, options);
  return (count(longRun) - count(shortRun)) / (longRun - shortRun);
}
