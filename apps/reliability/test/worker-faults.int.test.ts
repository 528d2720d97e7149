import { describe, it } from "vitest";
import { runWorkerFaultScenario } from "../src/scenarios/worker-faults.js";
import { expectScenarioPassed } from "./helpers.js";

describe("worker faults", () => {
  it("20 steps mixing OOM, timeouts, throws, exits and oversized output: typed errors, pool at its size", async () => {
    const result = await runWorkerFaultScenario({ steps: 20, threads: 2, seed: "ci" });
    // 20 steps plus the final pool check.
    expectScenarioPassed(result, 21);
  });
});
