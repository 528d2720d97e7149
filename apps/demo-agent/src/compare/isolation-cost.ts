import { formatBytes } from "../byte-size.js";
import type { RunReport } from "../run/run-report.js";

/** What a fresh isolate per step cost in a `--compare` run, and what it bought, in figures. */
export interface IsolationCost {
  modules: number;
  /** Median boot of the generation steps' fresh isolates in the leangraph run. */
  bootMedianMs: number;
  boots: number;
  /** (leangraph − stock) wall time, process start to exit, per generated module; may be < 0. */
  extraWallPerStepMs: number;
  stockPeakMainHeapBytes: number;
  leangraphPeakMainHeapBytes: number;
  peakWorkerHeapBytes: number;
  faults: number;
  retries: number;
  /** Wall time the leangraph run spent with a step waiting on the (simulated) model. */
  modelWaitMs: number;
}

const wall = (report: RunReport) => report.processWallMs ?? report.wallMs;

export function isolationCost(stock: RunReport, leangraph: RunReport): IsolationCost {
  const modules = Math.max(1, leangraph.files);
  return {
    modules,
    bootMedianMs: leangraph.timeBreakdown.isolateBoot.medianMs,
    boots: leangraph.timeBreakdown.isolateBoot.count,
    extraWallPerStepMs: Math.round(((wall(leangraph) - wall(stock)) / modules) * 10) / 10,
    stockPeakMainHeapBytes: stock.peakMainHeapBytes,
    leangraphPeakMainHeapBytes: leangraph.peakMainHeapBytes,
    peakWorkerHeapBytes: leangraph.peakWorkerHeapBytes,
    faults: leangraph.faults,
    retries: leangraph.retries,
    modelWaitMs: leangraph.timeBreakdown.categories.modelWait.inFlightMs,
  };
}

/** The report's one line on isolation: its price per step here, and why it is worth paying. */
export function describeIsolationCost(cost: IsolationCost): string {
  const extra =
    cost.extraWallPerStepMs > 0
      ? `leangraph took ${cost.extraWallPerStepMs} ms of wall time per step more than stock`
      : `leangraph took no more wall time than stock (${cost.extraWallPerStepMs} ms per step): ${
          cost.modelWaitMs > 0
            ? "the boots hid behind the model's wait"
            : "what the lean state saves outweighed the boots"
        }`;
  return (
    `Isolation costs a fresh isolate per generation step: ${cost.bootMedianMs} ms to boot here ` +
    `(median of ${cost.boots} boots in this run); ${extra}. ` +
    `It buys a main heap that does not hold the files (peak ${formatBytes(cost.leangraphPeakMainHeapBytes)} ` +
    `vs stock's ${formatBytes(cost.stockPeakMainHeapBytes)}), a step heap that is capped and thrown ` +
    `away after each step (peak ${formatBytes(cost.peakWorkerHeapBytes)}), and a fault (out of ` +
    `memory, crash, timeout) that costs one retried step in a fresh isolate, not the run ` +
    `(${cost.faults} faults, ${cost.retries} retries here).`
  );
}
