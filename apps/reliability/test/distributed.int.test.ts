import { describe, it } from "vitest";
import { runDistributedScenario } from "../src/scenarios/distributed.js";
import { expectScenarioPassed } from "./helpers.js";

// The quick subset: one run with two worker SIGKILLs and one queue loss. The full suite
// (pnpm test:reliability) runs three.
describe("distributed: steps on worker processes over BullMQ", () => {
  it("workers SIGKILLed, the queue lost, a worker that OOMs every step: every module once, output equal to a local run", async () => {
    const result = await runDistributedScenario({ runs: 1, killsPerRun: 2, seed: "ci" });
    expectScenarioPassed(result, 2);
  });
});
