import { describe, expect, it } from "vitest";
import { runBadInputScenario } from "../src/scenarios/bad-input.js";
import { collectFlagNames, invalidFlagValues } from "../src/scenarios/flag-cases.js";
import { expectScenarioPassed } from "./helpers.js";

/**
 * Known bugs (reported to their owners), pinned by the `it.fails` tests below so they cannot be
 * forgotten; each exclusion goes once its test starts failing:
 * - @leangraph/checkpointer encodes arrays element by element through the RedactingSerializer, so
 *   `[300 KB string, "ok", () => 1]` writes the string's blob before the function is rejected:
 *   the put fails with ERR_LG_UNSERIALIZABLE but leaves an unreferenced blob behind.
 */
const arrayWithFunction = "function inside an array";

describe("bad input", () => {
  it("knows an invalid value for every LG_* flag the sources read", async () => {
    const names = await collectFlagNames();
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !(name in invalidFlagValues))).toEqual([]);
  });

  it("invalid flags, malformed step inputs and unserializable state: typed errors, nothing half-written", async () => {
    // endToEnd (the demo CLI started once per invalid flag) takes minutes; the full suite runs it.
    const result = await runBadInputScenario({
      endToEnd: false,
      excludeStateValues: [arrayWithFunction],
    });
    expectScenarioPassed(result, 40);
  });

  it.fails("an unserializable array element leaves no blob behind (checkpointer bug)", async () => {
    const result = await runBadInputScenario({
      endToEnd: false,
    });
    expect(result.failureDetails).toEqual([]);
  });
});
