/**
 * A small line-chart renderer that returns a self-contained SVG string: no scripts, no fonts or
 * styles from a CDN (the report must open offline), sized by explicit width/height.
 */
export interface ChartSeries {
  name: string;
  color: string;
  points: Array<{ x: number; y: number }>;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** `log` for values spanning orders of magnitude (bytes on disk: stock vs lean). */
  yScale?: "linear" | "log";
  formatX?: (value: number) => string;
  formatY?: (value: number) => string;
  /** @default 760 */
  width?: number;
  /** @default 360 */
  height?: number;
}

const MARGIN = { top: 36, right: 24, bottom: 48, left: 84 };

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderLineChart(options: LineChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 360;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const formatX = options.formatX ?? ((value: number) => String(value));
  const formatY = options.formatY ?? ((value: number) => String(value));
  const log = options.yScale === "log";

  const all = options.series.flatMap((series) => series.points);
  const xStep = niceStep(Math.max(1e-9, ...all.map((point) => point.x)) / 5);
  const xMax = Math.max(
    xStep,
    Math.ceil(Math.max(0, ...all.map((point) => point.x)) / xStep) * xStep,
  );
  const positive = all.map((point) => point.y).filter((y) => y > 0);
  const yMaxRaw = Math.max(1e-9, ...positive);
  const yMinLog = log ? 10 ** Math.floor(Math.log10(Math.min(...positive, yMaxRaw))) : 0;
  const yStep = niceStep(yMaxRaw / 4);
  const yMax = log ? 10 ** Math.ceil(Math.log10(yMaxRaw)) : Math.ceil(yMaxRaw / yStep) * yStep;

  const xPixel = (x: number) => MARGIN.left + (x / xMax) * plotWidth;
  const yFraction = (y: number) =>
    log
      ? (Math.log10(Math.max(y, yMinLog)) - Math.log10(yMinLog)) /
        Math.max(1e-9, Math.log10(yMax) - Math.log10(yMinLog))
      : y / yMax;
  const yPixel = (y: number) => MARGIN.top + plotHeight - yFraction(y) * plotHeight;

  const yTicks: number[] = [];
  if (log) {
    for (let value = yMinLog; value <= yMax * 1.0001; value *= 10) yTicks.push(value);
  } else {
    for (let value = 0; value <= yMax * 1.0001; value += yStep) yTicks.push(value);
  }
  const xTicks: number[] = [];
  for (let value = 0; value <= xMax * 1.0001; value += xStep) xTicks.push(value);

  const grid = yTicks
    .map((value) => {
      const y = yPixel(value).toFixed(1);
      return `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#e3e6ea"/><text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" class="tick">${escapeXml(formatY(value))}</text>`;
    })
    .join("");
  const xAxis = xTicks
    .map((value) => {
      const x = xPixel(value).toFixed(1);
      return `<text x="${x}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle" class="tick">${escapeXml(formatX(value))}</text>`;
    })
    .join("");
  const lines = options.series
    .filter((series) => series.points.length > 0)
    .map((series) => {
      const d = series.points
        .map(
          (point, index) =>
            `${index === 0 ? "M" : "L"}${xPixel(point.x).toFixed(1)},${yPixel(point.y).toFixed(1)}`,
        )
        .join(" ");
      const last = series.points[series.points.length - 1]!;
      return `<path class="series" data-series="${escapeXml(series.name)}" d="${d}" fill="none" stroke="${series.color}" stroke-width="2" stroke-linejoin="round"/><circle cx="${xPixel(last.x).toFixed(1)}" cy="${yPixel(last.y).toFixed(1)}" r="3.5" fill="${series.color}"/>`;
    })
    .join("");
  const legend = options.series
    .map(
      (series, index) =>
        `<g transform="translate(${MARGIN.left + 12 + index * 150},${MARGIN.top - 14})"><rect width="14" height="4" y="-2" fill="${series.color}"/><text x="20" dominant-baseline="middle" class="legend">${escapeXml(series.name)}</text></g>`,
    )
    .join("");

  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">
<title>${escapeXml(options.title)}</title>
<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>
${grid}
<line x1="${MARGIN.left}" y1="${MARGIN.top + plotHeight}" x2="${MARGIN.left + plotWidth}" y2="${MARGIN.top + plotHeight}" stroke="#6b7280"/>
<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotHeight}" stroke="#6b7280"/>
${xAxis}
<text x="${MARGIN.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle" class="axis">${escapeXml(options.xLabel)}</text>
<text transform="translate(16,${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeXml(options.yLabel)}</text>
${lines}
${legend}
</svg>`;
}

/** 1, 2, 2.5 or 5 times a power of ten, at or above `value`: readable tick spacing. */
function niceStep(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}
