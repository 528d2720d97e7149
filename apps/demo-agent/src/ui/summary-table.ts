import { formatBytes } from "../byte-size.js";
import type { RunReport } from "../run/run-report.js";
import { TIME_CATEGORIES, TIME_CATEGORY_LABELS } from "../runtime/time-ledger.js";

interface SummaryRow {
  label: string;
  value: (report: RunReport) => number | string;
  format?: (value: number) => string;
  /** Rows where "smaller is better" get a ratio column in `--compare`. */
  ratio?: boolean;
  /** Only in `--compare` (the value comes from the parent process). */
  compareOnly?: boolean;
  /** Only in a single run's summary: the step queue's rows, which `--compare`'s local runs leave n/a. */
  runOnly?: boolean;
}

const count = (value: number) => value.toLocaleString("en-US");
const duration = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
const bytesOrNone = (bytes: number) => (bytes === 0 ? "n/a" : formatBytes(bytes));
const durationOrNone = (ms: number) => (ms === 0 ? "–" : duration(ms));

/** The time breakdown: wall time during which each kind of work was in flight (they overlap). */
const timeRows: SummaryRow[] = TIME_CATEGORIES.map((category) => ({
  label: `  ${TIME_CATEGORY_LABELS[category]}`,
  value: (r: RunReport) => r.timeBreakdown?.categories[category].inFlightMs ?? 0,
  format: durationOrNone,
}));

export const summaryRows: SummaryRow[] = [
  { label: "state", value: (r) => r.setup.stateShape },
  { label: "checkpointer", value: (r) => r.setup.checkpointer },
  { label: "steps run", value: (r) => `${r.setup.steps}, ${r.setup.threads} at a time` },
  { label: "generation steps", value: (r) => r.generationSteps, format: count },
  { label: "waves (supersteps)", value: (r) => r.waves, format: count },
  { label: "files", value: (r) => r.files, format: count },
  { label: "files parsed as TS", value: (r) => `${r.filesParsed} ok, ${r.parseFailures} failed` },
  { label: "bytes generated", value: (r) => r.bytesGenerated, format: formatBytes },
  { label: "checkpoints", value: (r) => r.checkpoints, format: count },
  {
    label: "bytes on disk (DB+blobs)",
    value: (r) => r.checkpointBytesOnDisk,
    format: formatBytes,
    ratio: true,
  },
  { label: "  database", value: (r) => r.dbBytes, format: formatBytes },
  { label: "  blobs", value: (r) => r.blobBytes, format: formatBytes },
  {
    label: "largest checkpoint row",
    value: (r) => r.largestCheckpointRowBytes,
    format: formatBytes,
    ratio: true,
  },
  { label: "peak main heap", value: (r) => r.peakMainHeapBytes, format: formatBytes, ratio: true },
  { label: "peak worker heap", value: (r) => r.peakWorkerHeapBytes, format: bytesOrNone },
  { label: "faults / retries", value: (r) => `${r.faults} / ${r.retries}` },
  { label: "steps per worker", value: (r) => stepsPerWorker(r.stepsByWorker), runOnly: true },
  { label: "re-run steps", value: (r) => r.rerunSteps, format: count, runOnly: true },
  { label: "queue re-starts", value: (r) => r.queueRestarts ?? "n/a", runOnly: true },
  {
    label: "wall time, process start to exit",
    value: (r) => r.processWallMs ?? 0,
    format: duration,
    ratio: true,
    compareOnly: true,
  },
  { label: "wall time of the run", value: (r) => r.wallMs, format: duration, ratio: true },
  {
    label: "  startup (node, modules)",
    value: (r) => Math.round(r.timeBreakdown?.startupMs ?? 0),
    format: duration,
  },
  ...timeRows,
];

function stepsPerWorker(byWorker: Record<string, number> | undefined): string {
  const entries = Object.entries(byWorker ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "n/a" : entries.map(([id, steps]) => `${id} ${steps}`).join(", ");
}

function cell(row: SummaryRow, report: RunReport): string {
  const value = row.value(report);
  return typeof value === "number" && row.format ? row.format(value) : String(value);
}

function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((_, column) =>
    Math.max(header[column]!.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((text, column) =>
        column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!),
      )
      .join("  ");
  return [
    line(header),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...rows.map(line),
  ].join("\n");
}

/** The rows of `--compare`'s table and HTML report. */
export const comparisonRows = summaryRows.filter((row) => !row.runOnly);

export function renderRunSummary(report: RunReport): string {
  const title =
    report.status === "completed"
      ? `leangraph-demo: thread ${report.threadId} ${report.resumed ? "resumed and " : ""}completed`
      : `leangraph-demo: thread ${report.threadId} interrupted (state saved)`;
  const rows = summaryRows
    .filter((row) => !row.compareOnly)
    .map((row) => [row.label, cell(row, report)]);
  return `${title}\n\n${renderTable(["", "value"], rows)}\n\nproject: ${report.projectDir}`;
}

/** `stock / value`: how many times smaller than stock (higher is better). */
export function ratioAgainst(stock: number, value: number): string {
  if (value === 0 || stock === 0) return "n/a";
  const ratio = stock / value;
  return ratio >= 10 ? `${ratio.toFixed(0)}x` : `${ratio.toFixed(1)}x`;
}

export function renderComparison(names: string[], reports: RunReport[]): string {
  const stock = reports[0]!;
  const header = ["", ...names];
  for (const name of names.slice(1)) header.push(`stock/${name}`);
  const rows = comparisonRows.map((row) => {
    const cells = [row.label, ...reports.map((report) => cell(row, report))];
    for (const report of reports.slice(1)) {
      const value = row.value(report);
      const base = row.value(stock);
      cells.push(
        row.ratio && typeof value === "number" && typeof base === "number"
          ? ratioAgainst(base, value)
          : "",
      );
    }
    return cells;
  });
  return renderTable(header, rows);
}
