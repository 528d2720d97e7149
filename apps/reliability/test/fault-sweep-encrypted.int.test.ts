import { describe, it } from "vitest";
import { runFaultSweepScenario } from "../src/scenarios/fault-sweep.js";
import { expectScenarioPassed } from "./helpers.js";

// The quick subset of the fault sweep again, with encryption on (issue 19): every row payload and
// body sealed, blobs compressed then sealed. A fault between a seal and its commit must leave the
// old state or the new one, readable with the same key, and every error coded.
describe("fault sweep with encryption on: the N-th database or blob-store operation fails", () => {
  it("every operation resolves or rejects coded, and nothing is lost or misread", async () => {
    const result = await runFaultSweepScenario({
      positionsPerCase: 4,
      backends: ["sqlite-encrypted", "postgres-encrypted"],
    });
    console.log(`[fault-sweep encrypted] ${result.notes.join("; ")}`);
    expectScenarioPassed(result, 150);
  }, 1_200_000);
});
