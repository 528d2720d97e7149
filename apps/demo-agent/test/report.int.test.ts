import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const artifactsDir = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const chromiumPath = "/usr/bin/chromium";
const chromiumMissing = !existsSync(chromiumPath);

// Without a browser the check cannot run; in CI that is a broken setup, not a reason to skip.
if (chromiumMissing && process.env.CI !== "true") {
  console.warn(
    `[report.int.test] skipped: ${chromiumPath} not found. Install Debian's chromium (apt-get install -y chromium) to check the HTML report in a real browser.`,
  );
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-report-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(chromiumMissing && process.env.CI !== "true")(
  "--compare HTML report in headless Chromium",
  () => {
    it("renders both charts with a line per configuration, and the time breakdown per configuration", async () => {
      expect(existsSync(chromiumPath), `${chromiumPath} is required when CI=true`).toBe(true);
      const runDir = join(root, "compare");
      const args = [
        cli,
        "--compare",
        "--json",
        "--modules",
        "8",
        "--size",
        "4kb",
        "--thread",
        "report",
        "--run-dir",
        runDir,
      ];
      const { code, stdout, stderr } = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
      }>((resolve) => {
        const child = spawn(process.execPath, args, {
          env: { ...process.env, LG_WORKER_THREADS: "2", LG_MEM_LOG_INTERVAL_S: "0" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (chunk) => (out += chunk));
        child.stderr.on("data", (chunk) => (err += chunk));
        child.on("close", (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
      });
      expect(code, stderr).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.runs.map((run: { name: string }) => run.name)).toEqual([
        "stock",
        "drop-in",
        "leangraph",
      ]);
      const reportPath = join(runDir, "report.html");
      expect(result.reportPath).toBe(reportPath);
      // Self-contained: nothing is fetched, so it opens offline.
      expect(await readFile(reportPath, "utf8")).not.toMatch(
        /<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
      );

      const browser = await chromium.launch({
        executablePath: chromiumPath,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
        const requests: string[] = [];
        page.on("request", (request) => requests.push(request.url()));
        await page.goto(pathToFileURL(reportPath).href);
        for (const chartId of ["heap-chart", "disk-chart"]) {
          const chart = page.locator(`#${chartId} svg`);
          const box = await chart.boundingBox();
          expect(box, chartId).not.toBeNull();
          expect(box!.width).toBeGreaterThan(300);
          expect(box!.height).toBeGreaterThan(150);
          const series = chart.locator("path.series");
          expect(await series.count(), chartId).toBe(3);
          for (let index = 0; index < 3; index++) {
            const path = series.nth(index);
            // Each line has several points and a drawn extent, i.e. it actually rendered.
            expect((await path.getAttribute("d"))!.split("L").length).toBeGreaterThan(2);
            // Drawn, with an extent, inside its chart. (Widths differ: x is time, and runs differ.)
            const pathBox = (await path.boundingBox())!;
            expect(pathBox.width + pathBox.height).toBeGreaterThan(2);
            expect(pathBox.x).toBeGreaterThanOrEqual(box!.x);
            expect(pathBox.x + pathBox.width).toBeLessThanOrEqual(box!.x + box!.width + 1);
            expect(pathBox.y).toBeGreaterThanOrEqual(box!.y);
            expect(pathBox.y + pathBox.height).toBeLessThanOrEqual(box!.y + box!.height + 1);
          }
        }
        // The time breakdown: one lane chart per configuration, a lane per kind of work, with
        // bars where the run's own numbers say that work was in flight.
        const breakdown = page.locator("#time-breakdown");
        await expect(breakdown.locator("h2").textContent()).resolves.toContain(
          "Where the time went",
        );
        const laneCharts = breakdown.locator("svg.lanes");
        expect(await laneCharts.count()).toBe(3);
        for (const [index, run] of result.runs.entries()) {
          const chart = laneCharts.nth(index);
          expect(await chart.getAttribute("data-configuration")).toBe(run.name);
          const chartBox = (await chart.boundingBox())!;
          expect(chartBox.width).toBeGreaterThan(300);
          const categories = run.report.timeBreakdown.categories;
          for (const lane of ["generation", "review", "checkpointing"]) {
            const group = chart.locator(`g.lane[data-lane="${lane}"]`);
            expect(
              Number(await group.getAttribute("data-in-flight-ms")),
              `${run.name} ${lane}`,
            ).toBe(categories[lane].inFlightMs);
            expect(categories[lane].inFlightMs, `${run.name} ${lane}`).toBeGreaterThan(0);
            // The lane's background plus at least one visible bar inside the chart.
            const bars = group.locator("rect");
            expect(await bars.count(), `${run.name} ${lane}`).toBeGreaterThan(1);
            const bar = (await bars.nth(1).boundingBox())!;
            expect(bar.width).toBeGreaterThanOrEqual(1);
            expect(bar.x + bar.width).toBeLessThanOrEqual(chartBox.x + chartBox.width + 1);
          }
          // Isolate boots are leangraph's alone: stock and drop-in run steps in-process.
          const boots = chart.locator('g.lane[data-lane="isolateBoot"] rect');
          expect(await boots.count(), run.name).toBe(
            run.name === "leangraph" ? 1 + categories.isolateBoot.spans.length : 1,
          );
        }
        const leangraphRun = result.runs[2].report;
        expect(leangraphRun.timeBreakdown.isolateBoot.count).toBeGreaterThanOrEqual(8);
        expect(leangraphRun.timeBreakdown.isolateBoot.medianMs).toBeGreaterThan(0);
        // The one line on what isolation costs, with the run's own figures.
        const isolation = (await page.locator("#isolation-cost").textContent())!;
        expect(isolation).toContain(
          `${leangraphRun.timeBreakdown.isolateBoot.medianMs} ms to boot`,
        );
        expect(isolation).toContain(
          `median of ${leangraphRun.timeBreakdown.isolateBoot.count} boots`,
        );
        expect(isolation).toMatch(/heap/);
        expect(isolation).toMatch(/fault/);
        expect(result.isolationCost.bootMedianMs).toBe(
          leangraphRun.timeBreakdown.isolateBoot.medianMs,
        );
        const isolationBox = (await page.locator("#isolation-cost").boundingBox())!;
        expect(isolationBox.height).toBeGreaterThan(10);
        // The table's time rows, and the process wall time the parent measured.
        const tableText = (await page.locator("table").textContent())!;
        expect(tableText).toContain("waiting on the model");
        expect(tableText).toContain("wall time, process start to exit");
        for (const run of result.runs)
          expect(run.report.processWallMs).toBeGreaterThan(run.report.wallMs);
        expect(await page.locator("table tr").count()).toBeGreaterThan(10);
        expect(requests.every((url) => url.startsWith("file:"))).toBe(true);
        await mkdir(artifactsDir, { recursive: true });
        await page.screenshot({ path: join(artifactsDir, "compare-report.png"), fullPage: true });
      } finally {
        await browser.close();
      }
    });
  },
);
