import { describe, expect, it } from "vitest";
import { CliUsageError, parseCliOptions } from "../src/cli-options.js";
import { renderReliabilityDoc, scenarioTable, soakTable } from "../src/report/render.js";
import type { SoakResult } from "../src/scenarios/soak.js";
import { leastSquaresFit, leastSquaresSlope } from "../src/support/least-squares.js";
import type { ScenarioResult } from "../src/support/scenario-result.js";

const result = (overrides: Partial<ScenarioResult>): ScenarioResult => ({
  id: "crash-sqlite",
  title: "t",
  trials: 20,
  failures: 0,
  lostItems: 0,
  notes: [],
  failureDetails: [],
  wallMs: 1500,
  ...overrides,
});

describe("figures", () => {
  it("fits the least-squares slope", () => {
    const points = [0, 1, 2, 3, 4].map((x) => ({
      x: x * 100,
      y: 50 + x * 0.2 + (x % 2 ? 0.01 : -0.01),
    }));
    expect(leastSquaresSlope(points) * 1000).toBeCloseTo(2, 1);
    expect(leastSquaresSlope([{ x: 1, y: 5 }])).toBe(0);
  });

  it("marks a failing scenario in the table and the doc", () => {
    const failing = result({
      id: "corruption",
      failures: 1,
      failureDetails: ["db-item-flip: silently wrong"],
    });
    expect(scenarioTable([result({}), failing])).toMatch(
      /\| corruption \| 20 \| 1 \| 0 \| FAIL \|/,
    );
    const doc = renderReliabilityDoc(
      {
        context: {
          finishedAt: "2026-01-01T00:00:00Z",
          commit: "abc",
          node: "v20",
          cpus: 2,
          configuration: "full",
        },
        results: [failing],
      },
      undefined,
    );
    expect(doc).toContain("FAILURES, see below");
    expect(doc).toContain("db-item-flip: silently wrong");
    expect(doc).toContain("## Soak (`pnpm soak`)");
  });

  it("gives the slope's standard error, zero on a perfect line", () => {
    const line = [0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 }));
    expect(leastSquaresFit(line)).toEqual({ slope: 2, slopeStandardError: 0 });
    const scattered = [0, 1, 2, 3].map((x) => ({ x, y: x % 2 }));
    expect(leastSquaresFit(scattered).slopeStandardError).toBeGreaterThan(0.1);
  });

  it("shows each soak configuration's environment and marks a failing slope", () => {
    const configuration = {
      configuration: "leangraph",
      flags: { LG_WORKER_THREADS: "2" },
      environment: "MALLOC_ARENA_MAX=2, glibc 2.36",
      steps: 10_000,
      threads: 100,
      wallMs: 1000,
      warmupSteps: 2000,
      heapSlopeMbPer1000Steps: 0.1,
      heapSlopeStandardError: 0.01,
      rssSlopeMbPer1000Steps: 1.5,
      rssSlopeStandardError: 0.2,
      heapAfterWarmupMb: 50,
      heapAtEndMb: 51,
      rssAfterWarmupMb: 290,
      rssAtEndMb: 302,
      peakRssMb: 330,
      samples: 81,
      memoryTrace: [],
      passed: false,
    } satisfies SoakResult["configurations"][number];
    const table = soakTable({
      options: {
        steps: 10_000,
        hours: undefined,
        segmentModules: 100,
        moduleBytes: 4096,
        warmupFraction: 0.2,
        configurations: ["leangraph"],
        maxSlopeMbPer1000Steps: 1,
        mallocArenaMax: "2",
      },
      configurations: [configuration],
      passed: false,
    });
    expect(table).toContain("| environment | MALLOC_ARENA_MAX=2, glibc 2.36 |");
    expect(table).toContain("| **1.500** ± 0.200 |");
    expect(table).toMatch(/\| result \(threshold 1 MB \/ 1,000 steps\) \| FAIL \|/);
  });

  it("takes --malloc-arena-max as a whole number or default, nothing else", () => {
    expect(parseCliOptions(["soak", "--malloc-arena-max", "default"])["malloc-arena-max"]).toBe(
      "default",
    );
    expect(parseCliOptions(["soak", "--", "--malloc-arena-max", "4"])).toMatchObject({
      "malloc-arena-max": "4",
      explicit: ["malloc-arena-max"],
    });
    expect(parseCliOptions(["soak"])["malloc-arena-max"]).toBeUndefined();
    for (const bad of ["0", "two", "-1"]) {
      expect(() => parseCliOptions(["soak", "--malloc-arena-max", bad])).toThrow(CliUsageError);
    }
  });
});
