import { describe, expect, it } from "vitest";
import { checkpointerFlagsFromEnv } from "../src/flags.js";
import { parseDurationMs } from "../src/index.js";

describe("durations (LG_RETENTION_MAX_AGE, LG_RETENTION_SWEEP_INTERVAL, leangraph --older-than)", () => {
  it.each([
    ["1500ms", 1500],
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["1.5h", 5_400_000],
    ["30d", 2_592_000_000],
    ["2w", 1_209_600_000],
    [" 12h ", 43_200_000],
  ])("%j is %i ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(["30", "", "d", "-1d", "1 d", "6M", "1y", "1e3s", "999999999w"])(
    "%j is not a duration (a bare number, an upper-case unit and over 100 years included)",
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
    },
  );

  it("an LG_RETENTION_MAX_AGE the grammar refuses is a coded error naming the variable and value", () => {
    expect(() => checkpointerFlagsFromEnv({ LG_RETENTION_MAX_AGE: "6M" })).toThrow(
      expect.objectContaining({
        code: "ERR_LG_INVALID_OPTION",
        message: expect.stringMatching(/LG_RETENTION_MAX_AGE[\s\S]*6M[\s\S]*ms, s, m, h, d or w/),
      }),
    );
  });
});
