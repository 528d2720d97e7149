import { appendFileSync } from "node:fs";
import { setTimeout } from "node:timers/promises";
import { threadId } from "node:worker_threads";
import { z } from "zod";
import { renderModuleSource } from "./render-module.js";

/**
 * The generation step: the unit of work the agent runs once per module, through
 * @leangraph/workers (a fresh isolate per step) or in-process. It returns the file content; the
 * step runner writes it to disk and hands the graph only `{ path, bytes, sha256 }`.
 *
 * This file is loaded by path from worker threads (see `generateModuleStepPath`), so it must
 * stay importable on its own: no graph, no checkpointer, nothing heavy.
 */
export const generateModuleInputSchema = z.object({
  module: z.object({
    index: z.number().int().nonnegative(),
    id: z.string().min(1),
    kind: z.enum([
      "table",
      "form",
      "detailPanel",
      "dashboard",
      "hook",
      "service",
      "types",
      "store",
      "validation",
    ]),
    entity: z.string().min(1),
    path: z.string().min(1),
  }),
  seed: z.string(),
  targetBytes: z.number().int().positive(),
  /**
   * Where each generation appends one line. The resume test counts these lines to prove that a
   * module whose result was checkpointed is never generated again.
   */
  generationLogPath: z.string().min(1),
  /**
   * Simulated model latency: a real chat model takes seconds per file, the offline generator
   * about a millisecond. Lets a demo (or the resume test) be interrupted mid-generation.
   */
  simulatedLatencyMs: z.number().int().min(0).max(600_000).default(0),
});

export type GenerateModuleInput = z.input<typeof generateModuleInputSchema>;

export async function generateModule(rawInput: unknown): Promise<string> {
  const input = generateModuleInputSchema.parse(rawInput);
  if (input.simulatedLatencyMs > 0) await setTimeout(input.simulatedLatencyMs);
  // O_APPEND writes of one short line are atomic, so concurrent workers never interleave lines.
  appendFileSync(
    input.generationLogPath,
    `${JSON.stringify({ id: input.module.id, pid: process.pid, threadId, at: new Date().toISOString() })}\n`,
  );
  return renderModuleSource(input.module, input.seed, input.targetBytes);
}
