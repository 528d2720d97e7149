import { describe, it } from "vitest";
import { damages, runCorruptionScenario } from "../src/scenarios/corruption.js";
import { expectScenarioPassed } from "./helpers.js";

describe("corruption: damaged blobs and references", () => {
  it("every damage (blob flip/truncate/delete, DB item flip, reference outside the store) fails with its typed error naming the item; undamaged checkpoints still load", async () => {
    const result = await runCorruptionScenario();
    expectScenarioPassed(result, damages.length);
  });
});
