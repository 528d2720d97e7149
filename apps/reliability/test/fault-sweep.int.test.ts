import { describe, it } from "vitest";
import { runFaultSweepScenario } from "../src/scenarios/fault-sweep.js";
import { expectScenarioPassed } from "./helpers.js";

// The quick subset of the fault sweep: every operation on both backends and every fault layer,
// at 4 positions spread over each case (first and last included). The full suite
// (pnpm test:reliability) tries every position.
describe("fault sweep: the N-th database or blob-store operation fails", () => {
  it("every operation resolves or rejects coded, and nothing is lost or misread", async () => {
    const result = await runFaultSweepScenario({ positionsPerCase: 4 });
    console.log(`[fault-sweep] ${result.notes.join("; ")}`);
    expectScenarioPassed(result, 200);
  }, 1_200_000);
});
