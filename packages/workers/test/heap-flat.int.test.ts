import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { slopePerMinute } from "../src/watchdog/sample-ring.js";
import { STEPS_MODULE, tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./fixtures/heap-flat-child.mjs", import.meta.url));
const STEPS = 500;
const ALLOCATED_MB = 200;
const WARM_UP_STEPS = 50;

interface HeapFlatReport {
  finished: number;
  distinctThreads: number;
  minPeakBytes: number;
  seconds: number;
  samples: { step: number; heapUsedBytes: number }[];
}

function runChild(outputDir: string): Promise<HeapFlatReport> {
  return new Promise((resolve, reject) => {
    // A child with --expose-gc so each sample is taken after a full GC: what is left is what the
    // main process really keeps, not garbage waiting for the collector.
    const child = spawn(
      process.execPath,
      ["--expose-gc", CHILD, outputDir, STEPS_MODULE, String(STEPS), String(ALLOCATED_MB)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`heap-flat child exited with ${code}`));
      else resolve(JSON.parse(stdout) as HeapFlatReport);
    });
  });
}

describe("main-process heap across many heavy steps", () => {
  it(`stays flat over ${STEPS} steps that each hold ${ALLOCATED_MB} MB in their own isolate`, async () => {
    const output = tempDir("heap-flat");
    try {
      const report = await runChild(output.path);
      expect(report.finished).toBe(STEPS);
      expect(report.distinctThreads).toBe(STEPS);
      // Every step really held its 200 MB: in its own heap, never in ours.
      expect(report.minPeakBytes).toBeGreaterThan(ALLOCATED_MB * 1024 * 1024);

      const afterWarmUp = report.samples.filter((sample) => sample.step > WARM_UP_STEPS);
      // slopePerMinute is per x-unit * 60000; feeding steps as x gives bytes per step.
      const bytesPerStep =
        (slopePerMinute(
          afterWarmUp.map((sample) => ({ atMs: sample.step, value: sample.heapUsedBytes })),
        ) as number) / 60_000;
      const heapUsed = afterWarmUp.map((sample) => sample.heapUsedBytes);
      const spread = Math.max(...heapUsed) - Math.min(...heapUsed);
      // 200 MB per step would show as a slope of ~2e8 bytes/step; keeping even 1 KB per step
      // (a result object, a closure) would show as ~1e3. The main heap does neither.
      expect(bytesPerStep).toBeLessThan(512);
      expect(spread).toBeLessThan(2 * 1024 * 1024);
    } finally {
      output.remove();
    }
  }, 420_000);
});
