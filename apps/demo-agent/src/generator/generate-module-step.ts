import { appendFileSync } from "node:fs";
import { setTimeout } from "node:timers/promises";
import { threadId } from "node:worker_threads";
import type { ModuleSpec } from "./plan-modules.js";
import { renderModuleSource } from "./render-module.js";

/**
 * The generation step: the unit of work the agent runs once per module, through
 * @leangraph/workers (a fresh isolate per step) or in-process. It returns the file content; the
 * step runner writes it to disk and hands the graph only `{ path, bytes, sha256 }`.
 *
 * This file is loaded by path from worker threads (see `generateModuleStepPath`), so it must
 * stay importable on its own: no graph, no checkpointer, nothing heavy.
 */
export interface GenerateModuleInput {
  module: ModuleSpec;
  seed: string;
  targetBytes: number;
  /**
   * Where each generation appends one line. The resume test counts these lines to prove that a
   * module whose result was checkpointed is never generated again.
   */
  generationLogPath: string;
  /**
   * Simulated model latency: a real chat model takes seconds per file, the offline generator
   * about a millisecond. Lets a demo (or the resume test) be interrupted mid-generation.
   * @default 0
   */
  simulatedLatencyMs?: number;
}

/**
 * The input is built by the graph from options validated with zod at the CLI edge, so here a
 * few typeof checks guard against a wiring mistake. Deliberately not zod: this module is
 * imported by every fresh isolate, and importing zod costs 100-350 ms of CPU there (measured on
 * this 2-core machine) against ~2 ms to generate a 13 KB module.
 */
function assertGenerateModuleInput(input: unknown): asserts input is GenerateModuleInput {
  const candidate = input as Partial<GenerateModuleInput> | null;
  const problems: string[] = [];
  if (typeof candidate?.module?.id !== "string" || typeof candidate.module.path !== "string") {
    problems.push("module must be a planned ModuleSpec");
  }
  if (typeof candidate?.seed !== "string") problems.push("seed must be a string");
  if (!Number.isInteger(candidate?.targetBytes) || (candidate?.targetBytes ?? 0) <= 0) {
    problems.push("targetBytes must be a positive integer");
  }
  if (typeof candidate?.generationLogPath !== "string" || candidate.generationLogPath === "") {
    problems.push("generationLogPath must be a file path");
  }
  const latency = candidate?.simulatedLatencyMs ?? 0;
  if (!Number.isInteger(latency) || latency < 0) {
    problems.push("simulatedLatencyMs must be a non-negative integer");
  }
  if (problems.length > 0) throw new TypeError(`generateModule input: ${problems.join("; ")}`);
}

export async function generateModule(rawInput: unknown): Promise<string> {
  assertGenerateModuleInput(rawInput);
  const input = rawInput;
  if (input.simulatedLatencyMs) await setTimeout(input.simulatedLatencyMs);
  // O_APPEND writes of one short line are atomic, so concurrent workers never interleave lines.
  try {
    appendFileSync(
      input.generationLogPath,
      `${JSON.stringify({ id: input.module.id, pid: process.pid, threadId, at: new Date().toISOString() })}\n`,
    );
  } catch (error) {
    // A queue worker on another machine has no such directory: the log is the agent machine's
    // record (tests run their workers beside the agent), not part of the step's work.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return renderModuleSource(input.module, input.seed, input.targetBytes);
}
