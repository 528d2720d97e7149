import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * The one place the demo touches @leangraph/workers. The graph sees only `StepRunner`: run a
 * generation step, get back where its file landed.
 */
export interface StepOutcome {
  /** Absolute path of the written file. */
  path: string;
  bytes: number;
  sha256: string;
  heapUsedPeakBytes: number;
  ms: number;
  threadId: number;
  /** Runs made, 1 unless the step was retried. */
  attempts: number;
}

export interface StepRunner {
  /** `workers`: a fresh isolate per step; `in-process`: the main thread (LG_USE_WORKERS=off). */
  readonly mode: "workers" | "in-process";
  /** How many steps may run at once; the graph's wave size. */
  readonly threads: number;
  runGenerateStep(input: unknown, outputName: string): Promise<StepOutcome>;
  close(): Promise<void>;
}

/** Absolute path of the compiled generation step, the file worker threads import. */
export function generateStepModulePath(): string {
  const sibling = fileURLToPath(new URL("../generator/generate-module-step.js", import.meta.url));
  if (existsSync(sibling)) return sibling;
  // Under vitest this file runs from src/ as .ts; worker threads need the compiled JS in dist/.
  return fileURLToPath(new URL("../../dist/generator/generate-module-step.js", import.meta.url));
}

const onOff = z
  .enum(["on", "off", "true", "false", "1", "0"])
  .transform((v) => ["on", "true", "1"].includes(v));
const flags = z.object({
  LG_USE_WORKERS: onOff.default(true),
  LG_WORKER_THREADS: z.coerce.number().int().min(1).max(256).default(2),
});

export async function createStepRunner(options: {
  env: NodeJS.ProcessEnv;
  outputDir: string;
}): Promise<StepRunner> {
  const parsed = flags.parse(options.env);
  const { generateModule } = await import("../generator/generate-module-step.js");
  return {
    mode: "in-process",
    threads: parsed.LG_WORKER_THREADS,
    async runGenerateStep(input, outputName) {
      const started = performance.now();
      const content = await generateModule(input);
      const path = join(options.outputDir, outputName);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, content);
      await rename(`${path}.tmp`, path);
      return {
        path,
        bytes: Buffer.byteLength(content),
        sha256: createHash("sha256").update(content).digest("hex"),
        heapUsedPeakBytes: process.memoryUsage().heapUsed,
        ms: performance.now() - started,
        threadId: 0,
        attempts: 1,
      };
    },
    async close() {},
  };
}
