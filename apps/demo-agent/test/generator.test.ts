import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateModule } from "../src/generator/generate-module-step.js";
import { planModule, planProject } from "../src/generator/plan-modules.js";
import { renderModuleSource } from "../src/generator/render-module.js";
import { moduleKindNames } from "../src/generator/warehouse-spec.js";
import { syntaxDiagnostics } from "../src/graph/parse-check.js";

describe("offline generator", () => {
  it("is byte-identical for the same seed and module, and differs across seeds", () => {
    const module = planModule("seed-a", 3);
    const first = renderModuleSource(module, "seed-a", 13 * 1024);
    const second = renderModuleSource(planModule("seed-a", 3), "seed-a", 13 * 1024);
    expect(second).toBe(first);
    expect(renderModuleSource(module, "seed-b", 13 * 1024)).not.toBe(first);
  });

  it("plans every entity x kind once before repeating, with unique paths", () => {
    const plan = planProject("plan-seed", 400);
    expect(new Set(plan.map((module) => module.path)).size).toBe(400);
    expect(new Set(plan.map((module) => module.kind))).toEqual(new Set(moduleKindNames));
    expect(plan.map((module) => module.index)).toEqual([...Array(400).keys()]);
  });

  it("writes TypeScript/TSX of every kind that parses, at least as large as asked", () => {
    const plan = planProject("parse-seed", 180);
    for (const kind of moduleKindNames) {
      const module = plan.find((candidate) => candidate.kind === kind)!;
      for (const targetBytes of [512, 13 * 1024, 64 * 1024]) {
        const source = renderModuleSource(module, "parse-seed", targetBytes);
        expect(Buffer.byteLength(source)).toBeGreaterThanOrEqual(targetBytes);
        // Blocks are a few KB at most, so the file overshoots its target by little.
        expect(Buffer.byteLength(source)).toBeLessThan(targetBytes + 8 * 1024);
        expect(syntaxDiagnostics(module.path, source)).toEqual([]);
      }
    }
  });

  it("reports syntax errors in broken TSX with file and position", () => {
    const diagnostics = syntaxDiagnostics(
      "src/Broken.tsx",
      "export const x = <div>{1 + }</div>;\n",
    );
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]).toMatch(/^src\/Broken\.tsx:1:\d+ /);
  });

  it("produces several MB when asked, still parsing", () => {
    const module = planModule("big", 0);
    const source = renderModuleSource(module, "big", 3 * 1024 * 1024);
    expect(source.length).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    expect(syntaxDiagnostics(module.path, source)).toEqual([]);
  });

  it("as a step, validates its input and logs each generation", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-demo-gen-"));
    try {
      const generationLogPath = join(dir, "generation-log.ndjson");
      const module = planModule("step", 1);
      const text = await generateModule({
        module,
        seed: "step",
        targetBytes: 2048,
        generationLogPath,
      });
      expect(text).toBe(renderModuleSource(module, "step", 2048));
      const lines = (await readFile(generationLogPath, "utf8")).trim().split("\n");
      expect(lines.map((line) => JSON.parse(line).id)).toEqual([module.id]);
      await expect(
        generateModule({ module, seed: "step", targetBytes: -1, generationLogPath }),
      ).rejects.toThrow(/targetBytes must be a positive integer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
