import { describe, expect, it } from "vitest";
import { runBadInputScenario } from "../src/scenarios/bad-input.js";
import { collectFlagNames, invalidFlagValues } from "../src/scenarios/flag-cases.js";
import { expectScenarioPassed } from "./helpers.js";

describe("bad input", () => {
  it("knows an invalid value for every LG_* flag the sources read", async () => {
    const names = await collectFlagNames();
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !(name in invalidFlagValues))).toEqual([]);
  });

  it("invalid flags, malformed step inputs and unserializable state: typed errors, nothing half-written", async () => {
    // endToEnd (the demo CLI started once per invalid flag) takes minutes; the full suite runs it.
    const result = await runBadInputScenario({ endToEnd: false });
    expectScenarioPassed(result, 40);
  });
});
