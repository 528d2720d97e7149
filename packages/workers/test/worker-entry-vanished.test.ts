import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type * as Workers from "../src/index.js";
import { step, tempDir } from "./helpers.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/**
 * A rebuild that deletes dist/ while an agent runs once killed the host process: replacing the
 * isolates threw from inside an exit handler. This runs a pool from a private copy of dist/
 * (inside the package, so its imports still resolve), deletes the copy's worker entry, and keeps
 * asking for steps: they must end with ERR_LG_WORKER_BOOT_FAILED, and this process must live.
 */
describe("a pool whose worker entry file vanishes mid-run", () => {
  const copyRoot = mkdtempSync(join(packageDir, ".vanish-"));
  const output = tempDir("vanish");
  afterAll(() => {
    rmSync(copyRoot, { recursive: true, force: true });
    output.remove();
  });

  it("fails later steps with a typed boot error instead of crashing", async () => {
    cpSync(join(packageDir, "dist"), join(copyRoot, "dist"), { recursive: true });
    const workers = (await import(join(copyRoot, "dist", "index.js"))) as typeof Workers;
    const pool = workers.createStepPool({
      outputDir: output.path,
      threads: 1,
      heapMb: 64,
      stepTimeoutMs: 10_000,
    });
    const faults: string[] = [];
    pool.on("fault", (fault) => faults.push(fault.code));
    try {
      const first = await pool.run(step("echo", { n: 0 }, "before.txt"));
      expect(first.path).toBe(join(output.path, "before.txt"));

      rmSync(join(copyRoot, "dist", "step-worker.js"));
      const codes: string[] = [];
      // Spares booted before the deletion may still run a step or two; then boots fail.
      for (let attempt = 0; attempt < 8; attempt += 1) {
        try {
          await pool.run(step("echo", { n: attempt }, `after-${attempt}.txt`));
          codes.push("ok");
        } catch (error) {
          codes.push((error as Workers.StepError).code);
        }
      }
      expect(codes).toContain(workers.WorkersErrorCode.workerBootFailed);
      expect(codes.filter((code) => code !== "ok")).toEqual(
        codes.filter((code) => code !== "ok").map(() => workers.WorkersErrorCode.workerBootFailed),
      );
      expect(faults).toContain(workers.WorkersErrorCode.workerBootFailed);
    } finally {
      await pool.close();
    }
  });
});
