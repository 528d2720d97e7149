import type { SoakResult } from "../scenarios/soak.js";
import { passed, type ScenarioResult } from "../support/scenario-result.js";
import { knownBugs } from "./known-bugs.js";

/** Where and when figures were produced; printed with them so old figures read as old. */
export interface RunContext {
  finishedAt: string;
  commit: string;
  node: string;
  cpus: number;
  /** e.g. "full" or "reduced: --kills 10"; anything but the default configuration says so. */
  configuration: string;
}

export interface FullSuiteFigures {
  context: RunContext;
  results: ScenarioResult[];
}

export interface SoakFigures {
  context: RunContext;
  soak: SoakResult;
}

function status(result: ScenarioResult): string {
  if (result.skippedReason) return "skipped";
  return passed(result) ? "pass" : "FAIL";
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The scenario table, as printed on stdout and embedded in the docs. */
export function scenarioTable(results: ScenarioResult[]): string {
  const lines = [
    "| scenario | trials | failures | lost items | result | time |",
    "| --- | ---: | ---: | ---: | --- | ---: |",
  ];
  for (const result of results) {
    lines.push(
      `| ${result.id} | ${result.trials} | ${result.failures} | ${result.lostItems} | ${status(result)} | ${seconds(result.wallMs)} |`,
    );
  }
  return lines.join("\n");
}

export function scenarioDetails(results: ScenarioResult[]): string {
  const sections: string[] = [];
  for (const result of results) {
    const lines = [`### ${result.id}: ${result.title}`, ""];
    if (result.skippedReason) lines.push(`Skipped: ${result.skippedReason}`, "");
    for (const note of result.notes) lines.push(`- ${note}`);
    if (result.failureDetails.length > 0) {
      lines.push("", "Failures:", "");
      for (const detail of result.failureDetails)
        lines.push(`- \`${detail.replaceAll("`", "'")}\``);
    }
    sections.push(lines.join("\n"));
  }
  return sections.join("\n\n");
}

const fixed = (value: number, digits = 2) => value.toFixed(digits);

/** A slope with its standard error, e.g. `**0.120** ± 0.050`. */
const slopeCell = (slope: number, standardError: number | undefined) =>
  `**${fixed(slope, 3)}**${standardError === undefined ? "" : ` ± ${fixed(standardError, 3)}`}`;

export function soakTable(soak: SoakResult): string {
  const header = ["", ...soak.configurations.map((result) => `**${result.configuration}**`)];
  const row = (label: string, pick: (result: SoakResult["configurations"][number]) => string) =>
    `| ${label} | ${soak.configurations.map(pick).join(" | ")} |`;
  return [
    `| ${header.join(" | ")} |`,
    `| --- | ${soak.configurations.map(() => "---:").join(" | ")} |`,
    row("steps (modules generated)", (result) => String(result.steps)),
    row("threads run one after another", (result) => String(result.threads)),
    row("wall time", (result) => seconds(result.wallMs)),
    row("warm-up left out (steps)", (result) => String(result.warmupSteps)),
    row("samples after warm-up (one per thread)", (result) => String(result.samples)),
    row("**heap slope, MB / 1,000 steps** (± standard error)", (result) =>
      slopeCell(result.heapSlopeMbPer1000Steps, result.heapSlopeStandardError),
    ),
    row("**RSS slope, MB / 1,000 steps** (± standard error)", (result) =>
      slopeCell(result.rssSlopeMbPer1000Steps, result.rssSlopeStandardError),
    ),
    row(
      "heap after warm-up → end (MB)",
      (result) => `${fixed(result.heapAfterWarmupMb, 1)} → ${fixed(result.heapAtEndMb, 1)}`,
    ),
    row(
      "RSS after warm-up → end (MB)",
      (result) => `${fixed(result.rssAfterWarmupMb, 1)} → ${fixed(result.rssAtEndMb, 1)}`,
    ),
    row("RSS peak while steps run (MB, not in the slope)", (result) =>
      result.peakRssMb === undefined ? "—" : fixed(result.peakRssMb, 1),
    ),
    row(`result (threshold ${soak.options.maxSlopeMbPer1000Steps} MB / 1,000 steps)`, (result) =>
      result.passed ? "pass" : "FAIL",
    ),
    row("environment", (result) => result.environment ?? "—"),
    row("flags", (result) =>
      Object.entries(result.flags)
        .map(([name, value]) => `\`${name}=${value}\``)
        .join(" "),
    ),
  ].join("\n");
}

/** How the soak measured, in the doc beside its table. */
function soakMethod(soak: SoakResult): string[] {
  return [
    "Each configuration runs in a child process of its own, started fresh (so neither inherits",
    "the other's memory) from built JavaScript, as users run it (under tsx every worker thread",
    "also loaded tsx's loader: +60-70 MB of RSS, and growth of its own), where the demo agent runs thread after thread of",
    `${soak.options.segmentModules} modules. Heap and RSS of that process are sampled after a full GC`,
    "between two threads, when the thread's step pool has closed and every worker thread has",
    "ended; mid-thread RSS moves by tens of MB with how many worker isolates happen to be alive,",
    "which says nothing about retention (its peak is shown, outside the slope). The slope is a",
    `least-squares fit over the samples after the first ${Math.round(soak.options.warmupFraction * 100)}% of the steps; both heap and RSS must stay`,
    `≤ ${soak.options.maxSlopeMbPer1000Steps} MB per 1,000 steps. The ± is the slope's standard error: between threads RSS`,
    "sits on one of several allocator levels up to ~20 MB apart, and only a long run turns that",
    "scatter into a slope worth a verdict.",
    "",
    `The children run with \`MALLOC_ARENA_MAX=${soak.options.mallocArenaMax === "default" ? "(unset)" : soak.options.mallocArenaMax}\` (see "environment"). With`,
    "LG_USE_WORKERS every step runs in a fresh worker thread, and glibc hands new threads malloc",
    "arenas of their own (up to 8 per core), never unmapped and trimmed only from the top: thread",
    "after thread, RSS fills with fragmented arenas that hold no live data. Two arenas remove that",
    "allocator effect, which is why we recommend the same for any long-lived process using",
    "LG_USE_WORKERS; `pnpm soak -- --malloc-arena-max default` reproduces it. Growth that remains",
    "with two arenas is not explained by it.",
  ];
}

function contextLine(context: RunContext): string {
  return `${context.finishedAt}, commit \`${context.commit}\`, Node ${context.node}, ${context.cpus} CPUs, configuration: ${context.configuration}`;
}

/** docs/reliability.md, rebuilt from the latest figures of both commands. */
export function renderReliabilityDoc(
  full: FullSuiteFigures | undefined,
  soak: SoakFigures | undefined,
  customSoak?: SoakFigures,
): string {
  const parts = [
    "# Reliability figures",
    "",
    "Written by `pnpm test:reliability` and `pnpm soak` (apps/reliability); do not edit by hand.",
    "Each scenario counts its trials, the trials that broke the promise (failures) and the",
    "checkpoints, items or blobs that went missing or were duplicated (lost items).",
    "",
    "## Full suite (`pnpm test:reliability`)",
    "",
  ];
  if (full) {
    const allPassed = full.results.every(passed);
    parts.push(
      `Latest run: ${contextLine(full.context)}. Verdict: **${allPassed ? "all scenarios pass" : "FAILURES, see below"}**.`,
      "",
      scenarioTable(full.results),
      "",
    );
    if (!allPassed) {
      parts.push("### Known causes of the failures", "");
      for (const known of knownBugs)
        parts.push(`- **${known.scenarios}** — ${known.owner}: ${known.bug}`);
      parts.push("");
    }
    parts.push(scenarioDetails(full.results), "");
  } else {
    parts.push("No run recorded yet.", "");
  }
  parts.push("## Soak (`pnpm soak`)", "");
  if (soak) {
    parts.push(
      `Latest run: ${contextLine(soak.context)}. Verdict: **${soak.soak.passed ? "pass" : "FAIL"}** (leangraph's slopes; flags-off is the reference beside it).`,
      "",
      ...soakMethod(soak.soak),
      "",
      soakTable(soak.soak),
      "",
    );
  } else {
    parts.push("No run recorded yet.", "");
  }
  if (customSoak) {
    parts.push(
      "### Soak with other options",
      "",
      `Latest run: ${contextLine(customSoak.context)}. Verdict: **${customSoak.soak.passed ? "pass" : "FAIL"}**.`,
      "",
      soakTable(customSoak.soak),
      "",
    );
  }
  return parts.join("\n");
}
