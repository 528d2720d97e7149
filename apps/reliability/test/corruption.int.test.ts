import { describe, expect, it } from "vitest";
import { damages, runCorruptionScenario } from "../src/scenarios/corruption.js";
import { expectScenarioPassed } from "./helpers.js";

/**
 * Known bug in @leangraph/checkpointer (reported to its owner): an item body kept in the database
 * is not checked against its content id when read, so a flipped byte loads as a wrong value
 * instead of failing. Kept out of the passing run and pinned by the `it.fails` below: once the
 * saver verifies bodies, that test fails and this exclusion must go.
 */
const knownBug = "db-item-flip";

describe("corruption: damaged blobs and references", () => {
  it("every damage fails to load with its typed error naming the item; undamaged checkpoints still load", async () => {
    const result = await runCorruptionScenario({ exclude: [knownBug] });
    expectScenarioPassed(result, damages.length - 1);
  });

  it.fails("a flipped byte in an item body stored in the DB fails with a typed error (checkpointer bug)", async () => {
    const result = await runCorruptionScenario({
      exclude: damages.map((damage) => damage.id).filter((id) => id !== knownBug),
    });
    expect(result.failureDetails).toEqual([]);
  });
});
