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
    it("renders both charts with a line per configuration", async () => {
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
