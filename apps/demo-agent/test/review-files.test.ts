import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planModule } from "../src/generator/plan-modules.js";
import { renderModuleSource } from "../src/generator/render-module.js";
import { type ReviewedFile, reviewFiles } from "../src/graph/review-files-step.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lg-demo-review-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("review step", () => {
  it("passes generated files, flags syntax errors and files changed since their hash was recorded", async () => {
    const module = planModule("review", 0);
    const good = renderModuleSource(module, "review", 20_000);
    const broken = "export function Broken() {\n  return <div>{items.map((item) => </div>;\n}\n";
    await writeFile(join(dir, "Good.tsx"), good);
    await writeFile(join(dir, "Broken.tsx"), broken);
    await writeFile(join(dir, "Changed.tsx"), `${good}// edited\n`);

    const report = JSON.parse(
      await reviewFiles({
        files: [
          { absolutePath: join(dir, "Good.tsx"), path: "src/Good.tsx", sha256: sha256(good) },
          { absolutePath: join(dir, "Broken.tsx"), path: "src/Broken.tsx", sha256: sha256(broken) },
          { absolutePath: join(dir, "Changed.tsx"), path: "src/Changed.tsx", sha256: sha256(good) },
        ],
      }),
    ) as ReviewedFile[];

    expect(report.map((file) => file.path)).toEqual([
      "src/Good.tsx",
      "src/Broken.tsx",
      "src/Changed.tsx",
    ]);
    expect(report[0]).toEqual({ path: "src/Good.tsx", bytes: good.length, diagnostics: [] });
    expect(report[1]!.diagnostics.length).toBeGreaterThan(0);
    expect(report[1]!.diagnostics[0]).toMatch(/^src\/Broken\.tsx:2:\d+ /);
    expect(report[2]!.diagnostics).toEqual([expect.stringMatching(/content changed on disk/)]);
  });
});
