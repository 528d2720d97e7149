import { describe, expect, it } from "vitest";
import { renderReliabilityDoc, scenarioTable } from "../src/report/render.js";
import { leastSquaresSlope } from "../src/support/least-squares.js";
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
});
