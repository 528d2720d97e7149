import { describe, it } from "vitest";
import { runDifferentialScenario } from "../src/scenarios/differential.js";
import { expectScenarioPassed } from "./helpers.js";

// The quick subset of the differential fuzzing: 200 sequences, each on MemorySaver and on every
// lean configuration. The full suite (pnpm test:reliability) runs 10,000 with another seed.
describe("differential fuzzing against MemorySaver", () => {
  it("200 sequences of LangGraph operations observe the same on every lean saver configuration", async () => {
    const sequences = Number(process.env.LG_DIFFERENTIAL_SEQUENCES ?? 200);
    const result = await runDifferentialScenario({ sequences, seed: "ci" });
    console.log(`[differential] ${result.notes.join("; ")}`);
    expectScenarioPassed(result, sequences * 5);
  }, 1_800_000);
});
