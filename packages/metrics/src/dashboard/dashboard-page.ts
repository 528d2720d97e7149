/*
 * The dashboard page: one HTML document with its CSS and JavaScript inline, served as a string.
 * No CDN, no bundler, no build step: the charts are hand-drawn SVG paths, the data arrives by
 * server-sent events (`/events`: a "snapshot" on connect, then a "tick" per second). EventSource
 * reconnects by itself, and a reconnect starts again from a fresh snapshot.
 */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export function dashboardPage(title: string): string {
  return PAGE.replaceAll("__TITLE__", escapeHtml(title));
}

// A plain template literal: the page holds no backtick and no "${", so nothing is interpolated.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__ · live memory</title>
<style>
  :root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --card: #ffffff; --bg: #f3f4f6; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 14px 20px; background: #111827; color: #f9fafb; }
  header h1 { font-size: 17px; margin: 0; font-weight: 600; }
  #level { padding: 2px 10px; border-radius: 999px; font-weight: 700; font-size: 12px; background: #16a34a; color: white; }
  #level.MEDIUM { background: #ca8a04; } #level.HIGH { background: #ea580c; } #level.CRITICAL { background: #dc2626; }
  #status { margin-left: auto; font-size: 12px; color: #9ca3af; }
  #mem-line { font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; padding: 8px 20px; background: #1f2937; color: #d1fae5; white-space: pre-wrap; word-break: break-all; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 14px; padding: 14px 20px 24px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  section h2 { font-size: 14px; margin: 0 0 6px; font-weight: 600; }
  .caption { color: var(--muted); font-size: 12px; min-height: 16px; }
  .numbers { display: flex; gap: 22px; margin: 4px 0 8px; }
  .numbers div { display: flex; flex-direction: column; }
  .numbers b { font-size: 22px; font-variant-numeric: tabular-nums; }
  .numbers span { color: var(--muted); font-size: 12px; }
  svg { width: 100%; height: 220px; display: block; }
  svg text { font-size: 10px; fill: var(--muted); }
  .grid { stroke: var(--line); stroke-width: 1; }
  .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
  .threshold { stroke-width: 1; stroke-dasharray: 5 4; }
  .legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); }
  .legend i { display: inline-block; width: 14px; height: 3px; margin-right: 4px; vertical-align: middle; }
  button { font: inherit; font-size: 12px; border: 1px solid var(--line); background: white; border-radius: 4px; padding: 1px 8px; cursor: pointer; }
</style>
</head>
<body>
<header>
  <h1>__TITLE__ · live memory</h1>
  <span id="level">LOW</span>
  <span id="status">connecting…</span>
</header>
<div id="mem-line">[mem] waiting for the first sample…</div>
<main>
  <section>
    <h2>Main heap and RSS <button id="scale" type="button">scale: data</button></h2>
    <div class="legend" id="heap-legend"></div>
    <svg id="heap-chart" viewBox="0 0 640 220" preserveAspectRatio="none"></svg>
    <div class="caption" id="heap-caption"></div>
  </section>
  <section>
    <h2>Event-loop delay (p99 per second)</h2>
    <div class="legend"><span><i style="background:#0d9488"></i>p99 delay</span></div>
    <svg id="eventloop-chart" viewBox="0 0 640 220" preserveAspectRatio="none"></svg>
    <div class="caption" id="eventloop-caption"></div>
  </section>
  <section>
    <h2>Steps</h2>
    <div class="numbers">
      <div><b id="steps-done">0</b><span>done</span></div>
      <div><b id="steps-failed">0</b><span>failed</span></div>
      <div><b id="pool-running">–</b><span>running</span></div>
      <div><b id="pool-waiting">–</b><span>waiting</span></div>
    </div>
    <div class="legend"><span><i style="background:#7c3aed"></i>isolate heap peak per step (MB)</span></div>
    <svg id="step-heap-chart" viewBox="0 0 640 220" preserveAspectRatio="none"></svg>
    <div class="caption" id="step-caption"></div>
  </section>
  <section>
    <h2>Checkpoint bytes on disk</h2>
    <div class="numbers">
      <div><b id="checkpoints">0</b><span>checkpoints put</span></div>
      <div><b id="disk-now">–</b><span>on disk now</span></div>
    </div>
    <div class="legend"><span><i style="background:#2563eb"></i>database + blobs (MB) after each checkpoint</span></div>
    <svg id="disk-chart" viewBox="0 0 640 220" preserveAspectRatio="none"></svg>
    <div class="caption" id="disk-caption"></div>
  </section>
</main>
<script>
"use strict";
const MB = 1024 * 1024;
const MAX_POINTS = 3600;
const LEVEL_COLORS = { medium: "#ca8a04", high: "#ea580c", critical: "#dc2626", snapshot: "#7c3aed" };
let state = null;
let scaleToLimit = false;
const $ = (id) => document.getElementById(id);
const svgNs = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const node = document.createElementNS(svgNs, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTime(ms) {
  const s = Math.round(ms / 1000);
  return s < 120 ? s + "s" : Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0");
}

// A line chart: series of [x, y] points, optional horizontal lines; axes from 0.
function drawChart(svg, options) {
  const W = 640, H = 220, left = 46, right = 10, top = 8, bottom = 22;
  svg.replaceChildren();
  const xs = options.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = options.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs, xMin + 1) : 1;
  const yMax = niceMax(Math.max(options.yMin || 0, ...ys, ...(options.lines || []).map((l) => l.y)) * 1.05);
  const x = (v) => left + ((v - xMin) / (xMax - xMin)) * (W - left - right);
  const y = (v) => top + (1 - v / yMax) * (H - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    svg.append(el("line", { class: "grid", x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    svg.append(el("text", { x: left - 4, y: y(v) + 3, "text-anchor": "end" }, options.yFormat(v)));
  }
  for (let i = 0; i <= 4; i++) {
    const v = xMin + ((xMax - xMin) * i) / 4;
    svg.append(el("text", { x: x(v), y: H - 6, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, options.xFormat(v)));
  }
  for (const line of options.lines || []) {
    svg.append(el("line", { class: "threshold", stroke: line.color, x1: left, x2: W - right, y1: y(line.y), y2: y(line.y) }));
    svg.append(el("text", { x: W - right - 2, y: y(line.y) - 3, "text-anchor": "end", style: "fill:" + line.color }, line.label));
  }
  for (const series of options.series) {
    if (series.points.length === 0) continue;
    const d = series.points.map((p, i) => (i ? "L" : "M") + x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join("");
    svg.append(el("path", { class: "series", d, stroke: series.color, "data-name": series.name, "data-last": series.points[series.points.length - 1][1] }));
  }
}

function render() {
  if (!state) return;
  const memory = state.memory;
  const latest = memory[memory.length - 1];
  if (latest) {
    $("level").textContent = latest.level;
    $("level").className = latest.level;
  }
  $("mem-line").textContent = state.memoryLine || "[mem] –";

  // Heap and RSS, with the watchdog's thresholds as fractions of the heap limit.
  const limit = latest ? latest.heapLimitBytes : 0;
  const thresholds = Object.entries(state.thresholds).map(([name, fraction]) => ({
    name, y: (fraction * limit) / MB, color: LEVEL_COLORS[name],
    label: (name === "snapshot" ? "heap snapshot" : name.toUpperCase()) + " " + Math.round((fraction * limit) / MB) + " MB",
  }));
  const heap = memory.map((p) => [p.tMs, p.heapUsedBytes / MB]);
  const rss = memory.map((p) => [p.tMs, p.rssBytes / MB]);
  const dataMax = Math.max(1, ...heap.map((p) => p[1]), ...rss.map((p) => p[1]));
  const shown = scaleToLimit ? thresholds : thresholds.filter((t) => t.y <= dataMax * 1.6);
  const hidden = thresholds.filter((t) => !shown.includes(t));
  drawChart($("heap-chart"), {
    series: [{ name: "heap used", color: "#2563eb", points: heap }, { name: "rss", color: "#ea580c", points: rss }],
    lines: shown, yMin: scaleToLimit ? limit / MB : 0,
    xFormat: formatTime, yFormat: (v) => Math.round(v) + " MB",
  });
  $("heap-legend").innerHTML = '<span><i style="background:#2563eb"></i>heap used</span><span><i style="background:#ea580c"></i>RSS</span>';
  $("heap-caption").textContent = latest
    ? "heap limit " + Math.round(limit / MB) + " MB; now " + (100 * latest.heapUsedBytes / limit).toFixed(1) + "% of it" +
      (hidden.length ? "; above the chart: " + hidden.map((t) => t.label).join(", ") : "")
    : "";

  drawChart($("eventloop-chart"), {
    series: [{ name: "event-loop p99", color: "#0d9488", points: memory.map((p) => [p.tMs, p.eventLoopDelayP99Ms]) }],
    yMin: 10, xFormat: formatTime, yFormat: (v) => v.toFixed(v < 10 ? 1 : 0) + " ms",
  });
  const delays = memory.map((p) => p.eventLoopDelayP99Ms);
  $("eventloop-caption").textContent = delays.length ? "worst second " + Math.max(...delays).toFixed(1) + " ms" : "";

  $("steps-done").textContent = state.stepsSucceeded;
  $("steps-failed").textContent = state.stepsFailed;
  $("pool-running").textContent = state.pool ? state.pool.running + "/" + state.pool.concurrency : "–";
  $("pool-waiting").textContent = state.pool ? state.pool.waiting : "–";
  const stepHeap = state.steps.filter((s) => s.heapUsedPeakBytes !== undefined && s.heapUsedPeakBytes !== null);
  drawChart($("step-heap-chart"), {
    series: [{ name: "isolate heap peak", color: "#7c3aed", points: stepHeap.map((s) => [s.index, s.heapUsedPeakBytes / MB]) }],
    yMin: 1, xFormat: (v) => "step " + Math.round(v), yFormat: (v) => v.toFixed(v < 10 ? 1 : 0) + " MB",
  });
  $("step-caption").textContent = stepHeap.length
    ? "largest " + (Math.max(...stepHeap.map((s) => s.heapUsedPeakBytes)) / MB).toFixed(1) + " MB; each step runs in a fresh isolate"
    : "no worker step yet";

  $("checkpoints").textContent = state.checkpointsPut;
  const disk = state.disk;
  $("disk-now").textContent = disk.length ? (disk[disk.length - 1].bytes / MB).toFixed(2) + " MB" : "–";
  drawChart($("disk-chart"), {
    series: [{ name: "bytes on disk", color: "#2563eb", points: disk.map((p) => [p.checkpoints, p.bytes / MB]) }],
    yMin: 0.1, xFormat: (v) => "#" + Math.round(v), yFormat: (v) => v.toFixed(v < 10 ? 2 : 0) + " MB",
  });
  const perCheckpointKb = disk.length > 1
    ? (disk[disk.length - 1].bytes - disk[0].bytes) / Math.max(1, disk[disk.length - 1].checkpoints - disk[0].checkpoints) / 1024
    : undefined;
  $("disk-caption").textContent = perCheckpointKb === undefined ? ""
    : (perCheckpointKb >= 0 ? "+" : "") + perCheckpointKb.toFixed(1) + " KB per checkpoint on average (the SQLite WAL grows and is folded back while idle)";
}

function trim(series) {
  if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS);
}

const events = new EventSource("events");
events.addEventListener("snapshot", (message) => {
  state = JSON.parse(message.data);
  $("status").textContent = "live";
  render();
});
events.addEventListener("tick", (message) => {
  if (!state) return;
  const tick = JSON.parse(message.data);
  for (const key of ["memory", "steps", "disk"]) {
    state[key].push(...tick[key]);
    trim(state[key]);
  }
  for (const key of ["stepsSucceeded", "stepsFailed", "checkpointsPut", "pool", "memoryLine"]) state[key] = tick[key];
  $("status").textContent = "live · updated " + new Date().toLocaleTimeString();
  render();
});
events.onerror = () => {
  $("status").textContent = "disconnected (the agent stopped?) · retrying…";
};
$("scale").onclick = () => {
  scaleToLimit = !scaleToLimit;
  $("scale").textContent = "scale: " + (scaleToLimit ? "heap limit" : "data");
  render();
};
</script>
</body>
</html>
`;
