import { describe, it } from "vitest";
import { runWriteFailureScenario } from "../src/scenarios/write-failures.js";
import { expectScenarioPassed } from "./helpers.js";

describe("write failures", () => {
  it("a blob write that fails rejects the put and leaves no row pointing at a missing blob", async () => {
    const result = await runWriteFailureScenario();
    expectScenarioPassed(result, 2);
  });
});
