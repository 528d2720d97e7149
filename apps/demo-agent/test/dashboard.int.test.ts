/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, startDemo } from "./demo-process.js";

const artifactsDir = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const chromiumPath = "/usr/bin/chromium";
const chromiumMissing = !existsSync(chromiumPath);
const MODULES = 16;

// Without a browser the check cannot run; in CI that is a broken setup, not a reason to skip.
if (chromiumMissing && process.env.CI !== "true") {
  console.warn(
    `[dashboard.int.test] skipped: ${chromiumPath} not found. Install Debian's chromium (apt-get install -y chromium) to check the live dashboard in a real browser.`,
  );
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lg-demo-dashboard-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** What the page shows right now, read from the DOM as a person would see it. */
async function readPage(page: Page) {
  return page.evaluate(() => {
    const text = (id: string) => document.getElementById(id)?.textContent ?? "";
    const paths = (id: string) =>
      [...document.querySelectorAll(`#${id} path.series`)].map((path) => ({
        d: path.getAttribute("d") ?? "",
        last: Number(path.getAttribute("data-last")),
      }));
    return {
      status: text("status"),
      memLine: text("mem-line"),
      stepsDone: Number(text("steps-done")),
      stepsFailed: Number(text("steps-failed")),
      checkpoints: Number(text("checkpoints")),
      heap: paths("heap-chart"),
      eventLoop: paths("eventloop-chart"),
      stepHeap: paths("step-heap-chart"),
      disk: paths("disk-chart"),
      thresholdLines: document.querySelectorAll("#heap-chart line.threshold").length,
      heapCaption: text("heap-caption"),
    };
  });
}

/** Distinct colours in a PNG, decoded by the browser itself (no image library needed). */
async function distinctColours(browser: Browser, png: Buffer): Promise<number> {
  const page = await browser.newPage();
  try {
    await page.setContent("<canvas id=c></canvas>");
    return await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.getElementById("c") as HTMLCanvasElement;
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d")!;
      context.drawImage(image, 0, 0);
      const { data } = context.getImageData(0, 0, image.width, image.height);
      const colours = new Set<number>();
      for (let index = 0; index < data.length; index += 4) {
        colours.add((data[index]! << 16) | (data[index + 1]! << 8) | data[index + 2]!);
      }
      return colours.size;
    }, png.toString("base64"));
  } finally {
    await page.close();
  }
}

describe.skipIf(chromiumMissing && process.env.CI !== "true")(
  "leangraph-demo --dashboard in headless Chromium",
  () => {
    it("updates live during a run, draws every chart, and leaves a screenshot that is not blank", async () => {
      expect(existsSync(chromiumPath), `${chromiumPath} is required when CI=true`).toBe(true);
      const demo = startDemo(
        [
          ...["--modules", String(MODULES), "--size", "8kb", "--step-delay-ms", "400"],
          ...["--dashboard", "--thread", "dashboard", "--run-dir", join(root, "run")],
        ],
        { LG_WORKER_THREADS: "2", LG_METRICS_PORT: "" },
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
        const [, url] = await demo.waitForStderr(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const requests: string[] = [];
        page.on("request", (request) => requests.push(request.url()));
        await page.goto(url!);
        await page.waitForFunction(() =>
          document.getElementById("status")?.textContent?.startsWith("live"),
        );

        // Two reads a few ticks apart, during the run: the charts moved.
        const first = await readPage(page);
        await sleep(2_500);
        const second = await readPage(page);
        expect(second.heap[0]!.d).not.toBe(first.heap[0]!.d);
        expect(second.stepsDone).toBeGreaterThan(first.stepsDone);
        expect(second.memLine).toMatch(/^\[mem\] rss=\S+MB heapUsed=\S+MB/);

        await demo.waitForStderr(/Run finished/);
        await sleep(2_500); // a tick or two after the last checkpoint, for the disk chart
        const final = await readPage(page);
        // Every generation step and each review step went through the step pool.
        expect(final.stepsDone).toBeGreaterThanOrEqual(MODULES + 1);
        // Steps settled after the second read, so both reads were taken during the run. (Not
        // "fewer steps than modules": reviews run beside generation and count as steps too.)
        expect(final.stepsDone).toBeGreaterThan(second.stepsDone);
        expect(final.stepsFailed).toBe(0);
        expect(final.checkpoints).toBeGreaterThan(MODULES / 2);
        expect(final.heap.map((series) => series.last)).toHaveLength(2);
        for (const series of [
          ...final.heap,
          ...final.eventLoop,
          ...final.stepHeap,
          ...final.disk,
        ]) {
          // Each line has several points.
          expect(series.d.split("L").length).toBeGreaterThan(2);
        }
        // The disk chart ends at what is on disk now, in MB, and grew over the run.
        expect(final.disk[0]!.last).toBeGreaterThan(0);
        expect(final.heapCaption).toMatch(/heap limit \d+ MB/);
        expect(requests.every((request) => request.startsWith(url!))).toBe(true);

        await mkdir(artifactsDir, { recursive: true });
        const png = await page.screenshot({
          path: join(artifactsDir, "dashboard.png"),
          fullPage: true,
        });
        // A blank page is one colour; charts, text and badges are many.
        expect(await distinctColours(browser, png)).toBeGreaterThan(50);
        await page.goto("about:blank");
        expect(await distinctColours(browser, await page.screenshot())).toBeLessThan(3);
      } finally {
        await browser.close();
        await demo.interrupt();
      }
      expect(await demo.exited).toBe(0);
    });
  },
);
