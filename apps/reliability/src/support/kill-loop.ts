import { setTimeout as sleep } from "node:timers/promises";
import type { ChildOutcome, RunningChild } from "./child-process.js";
import { tail } from "./child-process.js";
import { randomInt } from "./seeded-random.js";

export interface KillLoopResult {
  /** SIGKILLs that landed while the run was still going. */
  kills: number;
  /** Kill moments that came after the run had already finished (not counted as kills). */
  missed: number;
  /** The run that was finally allowed to finish. */
  final: ChildOutcome;
}

/**
 * Starts the same run over and over, SIGKILLing it at a seeded random moment in
 * `[minDelayMs, maxDelayMs]` after spawn until `kills` kills have landed, then lets one start run
 * to completion. Every start after a kill is a resume.
 */
export async function killAndResume(options: {
  start: () => RunningChild;
  kills: number;
  random: () => number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Called after each kill, e.g. to record what the crash left behind. */
  afterKill?: (killNumber: number) => Promise<void>;
}): Promise<KillLoopResult> {
  let kills = 0;
  let missed = 0;
  // A run that keeps finishing before its kill moment means the window is too wide; give up on
  // killing after this many misses rather than loop forever.
  const maxMisses = Math.max(4, options.kills);
  while (kills < options.kills && missed < maxMisses) {
    const delayMs = randomInt(options.random, options.minDelayMs, options.maxDelayMs);
    const running = options.start();
    const winner = await Promise.race([
      running.done.then((outcome) => ({ finished: outcome })),
      sleep(delayMs).then(() => undefined),
    ]);
    if (winner) {
      missed += 1;
      if (winner.finished.code !== 0) {
        throw new Error(
          `run failed by itself (exit ${winner.finished.code}): ${tail(winner.finished.stderr)}`,
        );
      }
      continue;
    }
    running.child.kill("SIGKILL");
    const outcome = await running.done;
    if (outcome.signal === "SIGKILL") {
      kills += 1;
      await options.afterKill?.(kills);
    } else if (outcome.code === 0) {
      missed += 1;
    } else {
      throw new Error(`run failed before its kill (exit ${outcome.code}): ${tail(outcome.stderr)}`);
    }
  }
  const final = await options.start().done;
  return { kills, missed, final };
}
