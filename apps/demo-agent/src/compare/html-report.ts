import type { RunReport } from "../run/run-report.js";
import { comparisonRows, ratioAgainst } from "../ui/summary-table.js";
import { describeIsolationCost, isolationCost } from "./isolation-cost.js";
import { renderLineChart } from "./svg-chart.js";
import { renderTimeLanes } from "./time-lanes.js";

export interface ComparedRun {
  name: string;
  description: string;
  report: RunReport;
}

const colors = ["#d1495b", "#edae49", "#00798c", "#30638e"];

const MIB = 1024 * 1024;

/** Axis labels in MB: `0.5 MB`, `12 MB`, `1,000 MB`. */
const formatMb = (mb: number) =>
  `${mb.toLocaleString("en-US", { maximumFractionDigits: mb > 0 && mb < 1 ? 3 : 1 })} MB`;

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * The `--compare` report: one self-contained HTML file (inline CSS and SVG, no scripts, nothing
 * fetched) so it opens offline and can be attached to an issue as is.
 */
export function renderComparisonHtml(runs: ComparedRun[], workload: string): string {
  const heapChart = renderLineChart({
    title: "Main-process heap used over time",
    xLabel: "seconds since start",
    yLabel: "heap used",
    series: runs.map((run, index) => ({
      name: run.name,
      color: colors[index % colors.length]!,
      points: run.report.timeline.heap.map((sample) => ({
        x: sample.tMs / 1000,
        y: sample.heapUsedBytes / MIB,
      })),
    })),
    formatX: (seconds) => `${Number(seconds.toFixed(2))} s`,
    formatY: formatMb,
  });
  const diskChart = renderLineChart({
    title: "Checkpoint bytes on disk (DB + blobs) after each checkpoint",
    xLabel: "checkpoint (superstep)",
    yLabel: "bytes on disk (log scale)",
    yScale: "log",
    series: runs.map((run, index) => ({
      name: run.name,
      color: colors[index % colors.length]!,
      points: run.report.timeline.disk.map((sample) => ({ x: sample.step, y: sample.bytes / MIB })),
    })),
    formatX: (step) => String(Math.round(step)),
    formatY: formatMb,
  });

  const axisMs = Math.max(...runs.map((run) => run.report.timeBreakdown.elapsedMs));
  const lanes = runs
    .map(
      (run) =>
        `<figure class="time-lanes">${renderTimeLanes({ name: run.name, breakdown: run.report.timeBreakdown, axisMs })}<figcaption>${escapeHtml(run.name)}: ${escapeHtml(wallSentence(run.report))}</figcaption></figure>`,
    )
    .join("\n");
  const leangraph = runs.find((run) => run.name === "leangraph");
  const isolationLine =
    leangraph === undefined
      ? ""
      : `<p id="isolation-cost">${escapeHtml(describeIsolationCost(isolationCost(runs[0]!.report, leangraph.report)))}</p>`;

  const stock = runs[0]!.report;
  const header = `<tr><th></th>${runs.map((run) => `<th>${escapeHtml(run.name)}</th>`).join("")}${runs
    .slice(1)
    .map((run) => `<th>stock / ${escapeHtml(run.name)}</th>`)
    .join("")}</tr>`;
  const body = comparisonRows
    .map((row) => {
      const cells = runs.map((run) => {
        const value = row.value(run.report);
        return `<td>${escapeHtml(typeof value === "number" && row.format ? row.format(value) : String(value))}</td>`;
      });
      const ratios = runs.slice(1).map((run) => {
        const value = row.value(run.report);
        const base = row.value(stock);
        return `<td class="ratio">${row.ratio && typeof value === "number" && typeof base === "number" ? ratioAgainst(base, value) : ""}</td>`;
      });
      return `<tr><th scope="row">${escapeHtml(row.label.trim())}</th>${cells.join("")}${ratios.join("")}</tr>`;
    })
    .join("\n");
  const legend = runs
    .map(
      (run) => `<li><strong>${escapeHtml(run.name)}</strong>: ${escapeHtml(run.description)}</li>`,
    )
    .join("");

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>leangraph-demo --compare</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; color: #1f2933; margin: 24px auto; max-width: 1040px; padding: 0 16px; }
  h1 { font-size: 22px; margin-bottom: 4px; }
  h2 { font-size: 18px; margin: 28px 0 4px; }
  #isolation-cost { background: #f3f7f9; border-left: 4px solid #00798c; padding: 8px 12px; }
  table { border-collapse: collapse; margin: 16px 0 24px; }
  th, td { padding: 4px 12px; border-bottom: 1px solid #e3e6ea; text-align: right; }
  th[scope="row"], tr:first-child th:first-child { text-align: left; font-weight: normal; color: #52606d; }
  td.ratio { font-weight: 600; color: #00798c; }
  figure { margin: 16px 0 28px; }
  figcaption { color: #52606d; margin-top: 4px; }
  svg.chart .tick { font-size: 11px; fill: #52606d; }
  svg.chart .axis { font-size: 12px; fill: #1f2933; }
  svg.chart .legend { font-size: 12px; fill: #1f2933; }
</style>
</head>
<body>
<h1>leangraph-demo --compare</h1>
<p>Workload: ${escapeHtml(workload)}. Each configuration ran in its own process, so heap numbers are not mixed.</p>
<ul>${legend}</ul>
<table>
${header}
${body}
</table>
<section id="time-breakdown">
<h2>Where the time went</h2>
<p>Each lane shows when that kind of work was in flight, on one clock from process start; lanes overlap (a review runs while the next wave waits on its model), so they do not add up to the wall time.</p>
${isolationLine}
${lanes}
</section>
<figure id="heap-chart">${heapChart}<figcaption>Heap used in the main process, sampled every 100 ms and after every checkpoint.</figcaption></figure>
<figure id="disk-chart">${diskChart}<figcaption>Checkpoint storage after each checkpoint: database (with WAL) plus blob files. Log scale.</figcaption></figure>
</body>
</html>
`;
}

function wallSentence(report: RunReport): string {
  const processWall =
    report.processWallMs === undefined
      ? ""
      : `, ${(report.processWallMs / 1000).toFixed(2)} s from process start to exit`;
  return `run ended ${(report.timeBreakdown.elapsedMs / 1000).toFixed(2)} s after the process started${processWall}`;
}
