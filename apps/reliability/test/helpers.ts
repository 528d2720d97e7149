import { expect } from "vitest";
import type { ScenarioResult } from "../src/support/scenario-result.js";

/** A scenario passes when it ran, every trial kept the promise and nothing was lost. */
export function expectScenarioPassed(result: ScenarioResult, minimumTrials: number): void {
  expect(result.skippedReason, "scenario skipped").toBeUndefined();
  expect(result.failureDetails, `${result.id} failures`).toEqual([]);
  expect(result.failures).toBe(0);
  expect(result.lostItems).toBe(0);
  expect(result.trials).toBeGreaterThanOrEqual(minimumTrials);
}
