import {
  TIME_CATEGORIES,
  TIME_CATEGORY_LABELS,
  type TimeBreakdown,
} from "../runtime/time-ledger.js";

/**
 * One configuration's time breakdown as an SVG lane chart (self-contained, like svg-chart.ts):
 * a lane per kind of work with a bar wherever one was in flight, on a shared time axis so lanes
 * of different runs compare at a glance. Overlap is the point: review beside the model's wait.
 */
export interface TimeLanesOptions {
  name: string;
  breakdown: TimeBreakdown;
  /** The axis end shared by every configuration's chart, in ms since process start. */
  axisMs: number;
  /** @default 760 */
  width?: number;
}

const LANE_HEIGHT = 18;
const LANE_GAP = 6;
const MARGIN = { top: 10, right: 24, bottom: 30, left: 230 };

const laneColors: Record<(typeof TIME_CATEGORIES)[number], string> = {
  modelWait: "#9aa5b1",
  generation: "#00798c",
  isolateBoot: "#edae49",
  review: "#30638e",
  checkpointing: "#d1495b",
};

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(2))} s`;

export function renderTimeLanes(options: TimeLanesOptions): string {
  const width = options.width ?? 760;
  const lanes = [
    { key: "startup", label: "startup (node, modules)", color: "#c3c8cf" },
    ...TIME_CATEGORIES.map((key) => ({
      key,
      label: TIME_CATEGORY_LABELS[key],
      color: laneColors[key],
    })),
  ];
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const height = MARGIN.top + lanes.length * (LANE_HEIGHT + LANE_GAP) + MARGIN.bottom;
  const axisMs = Math.max(1, options.axisMs);
  const x = (ms: number) => MARGIN.left + (Math.min(ms, axisMs) / axisMs) * plotWidth;
  const { breakdown } = options;

  const rows = lanes
    .map((lane, index) => {
      const top = MARGIN.top + index * (LANE_HEIGHT + LANE_GAP);
      const spans: Array<[number, number]> =
        lane.key === "startup"
          ? [[0, breakdown.startupMs]]
          : breakdown.categories[lane.key as (typeof TIME_CATEGORIES)[number]].spans;
      const inFlightMs =
        lane.key === "startup"
          ? breakdown.startupMs
          : breakdown.categories[lane.key as (typeof TIME_CATEGORIES)[number]].inFlightMs;
      const bars = spans
        .map(([start, end]) => {
          // At least a pixel wide, so a 1 ms checkpoint is still seen.
          const barWidth = Math.max(1, x(end) - x(start));
          return `<rect x="${x(start).toFixed(1)}" y="${top}" width="${barWidth.toFixed(1)}" height="${LANE_HEIGHT}" fill="${lane.color}"/>`;
        })
        .join("");
      return `<g class="lane" data-lane="${lane.key}" data-in-flight-ms="${Math.round(inFlightMs)}"><text x="${MARGIN.left - 8}" y="${top + LANE_HEIGHT / 2}" text-anchor="end" dominant-baseline="middle" class="tick">${escapeXml(lane.label)} · ${seconds(inFlightMs)}</text><rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${LANE_HEIGHT}" fill="#f3f4f6"/>${bars}</g>`;
    })
    .join("\n");
  const plotBottom = MARGIN.top + lanes.length * (LANE_HEIGHT + LANE_GAP);
  const end = x(breakdown.elapsedMs);
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (fraction) =>
        `<text x="${(MARGIN.left + fraction * plotWidth).toFixed(1)}" y="${plotBottom + 14}" text-anchor="middle" class="tick">${seconds(fraction * axisMs)}</text>`,
    )
    .join("");
  const title = `${options.name}: where the time went`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart lanes" data-configuration="${escapeXml(options.name)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">
<title>${escapeXml(title)}</title>
<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>
${rows}
<line class="run-end" x1="${end.toFixed(1)}" y1="${MARGIN.top - 4}" x2="${end.toFixed(1)}" y2="${plotBottom}" stroke="#1f2933" stroke-dasharray="3 3"/>
${ticks}
<text x="${MARGIN.left + plotWidth / 2}" y="${height - 4}" text-anchor="middle" class="axis">seconds since the process started (dashed: end of the run)</text>
</svg>`;
}
