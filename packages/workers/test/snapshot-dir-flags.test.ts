import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { snapshotDirNodeFlags, WorkersErrorCode } from "../src/index.js";
import { tempDir } from "./helpers.js";

describe("snapshotDirNodeFlags", () => {
  it("points --diagnostic-dir at the child's LG_SNAPSHOT_DIR and creates it (V8 aborts on a missing one)", () => {
    const parent = tempDir("diag-dir");
    try {
      const snapshotDir = join(parent.path, "nested", "snapshots");
      expect(snapshotDirNodeFlags({ LG_SNAPSHOT_DIR: snapshotDir })).toEqual([
        `--diagnostic-dir=${snapshotDir}`,
      ]);
      expect(existsSync(snapshotDir)).toBe(true);
    } finally {
      parent.remove();
    }
  });

  it("rejects a blank LG_SNAPSHOT_DIR like every other flag", () => {
    expect(() => snapshotDirNodeFlags({ LG_SNAPSHOT_DIR: "   " })).toThrow(
      expect.objectContaining({ code: WorkersErrorCode.invalidOption }),
    );
  });
});
