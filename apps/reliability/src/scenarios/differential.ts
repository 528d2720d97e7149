import { createHash } from "node:crypto";
import { postgresUnavailableReason } from "@leangraph/test-postgres";
import fc from "fast-check";
import { differenceOf } from "../differential/compare.js";
import {
  type LeanConfiguration,
  leanConfigurations,
  postgresConfigurations,
} from "../differential/configurations.js";
import { graphKinds } from "../differential/graphs.js";
import { describeSequence, type Sequence, sequenceArbitrary } from "../differential/operations.js";
import { ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";

/**
 * The full suite's sequence count: issue 10 asks for at least 10,000 sequences per saver
 * configuration there (every sequence runs on every configuration). 0.45–0.9 s per sequence
 * here: 2 h for 10,000 on a busy machine.
 */
export const defaultDifferentialSequences = 10_000;

/** Progress goes to stderr every this many sequences: the full run takes hours. */
const progressEvery = 500;

export interface DifferentialOptions {
  /** Sequences generated; each runs on MemorySaver and on every lean configuration. @default defaultDifferentialSequences */
  sequences?: number;
  /** @default "leangraph" */
  seed?: string;
}

/** Sequences that share one set of databases before they are replaced by fresh ones. */
const sequencesPerStore = 100;

function numericSeed(seed: string): number {
  return createHash("sha256").update(seed).digest().readInt32LE(0);
}

/**
 * Issue 10's differential fuzzing: fast-check sequences of real LangGraph operations (invoke,
 * stream, resume, updateState with every asNode, forks, history queries, copyThread, prune,
 * deleteThread, gc) on five small graphs, run on MemorySaver and on each lean configuration;
 * every observable must be equal. A difference shrinks to a minimal sequence, printed.
 */
export async function runDifferentialScenario(
  options: DifferentialOptions = {},
): Promise<ScenarioResult> {
  const sequences = options.sequences ?? defaultDifferentialSequences;
  const seed = options.seed ?? "leangraph";
  const recorder = new ScenarioRecorder(
    "differential",
    "Differential fuzzing: LangGraph operation sequences on MemorySaver and every lean saver configuration; every observable equal",
  );
  const unavailable = await postgresUnavailableReason();
  if (unavailable !== undefined && process.env.CI === "true") return recorder.skip(unavailable);
  const names = Object.keys(leanConfigurations).filter(
    (name) => unavailable === undefined || !postgresConfigurations.has(name),
  );
  if (unavailable !== undefined) recorder.note(`Postgres configurations skipped: ${unavailable}`);

  const configurations: LeanConfiguration[] = [];
  try {
    for (const name of names) configurations.push(await leanConfigurations[name]!());
    let runs = 0;
    let operations = 0;
    const msPerConfiguration = new Map<string, number>();
    const startedMs = performance.now();
    const perGraph = new Map<string, number>(graphKinds.map((kind) => [kind, 0]));
    const details = await fc.check(
      fc.asyncProperty(sequenceArbitrary, async (sequence: Sequence) => {
        runs += 1;
        // gc marks the whole store: on one ever-growing store every sequence would cost more
        // than the last, so each batch of sequences starts on fresh databases.
        if (runs % sequencesPerStore === 0) {
          for (const configuration of configurations.splice(0)) await configuration.close();
          for (const name of names) configurations.push(await leanConfigurations[name]!());
        }
        if (runs % progressEvery === 0) {
          process.stderr.write(
            `[reliability] differential: ${runs} sequences, ${Math.round((performance.now() - startedMs) / 1000)} s\n`,
          );
        }
        operations += sequence.operations.length;
        perGraph.set(sequence.graph, (perGraph.get(sequence.graph) ?? 0) + 1);
        const difference = await differenceOf(
          sequence,
          configurations,
          `fuzz-${runs}`,
          msPerConfiguration,
        );
        if (difference !== undefined) throw new Error(difference);
      }),
      { numRuns: sequences, seed: numericSeed(seed), endOnFailure: false },
    );
    for (let trial = 0; trial < details.numRuns; trial += 1) {
      for (const _ of configurations) recorder.trial();
    }
    recorder.note(
      `${details.numRuns} sequences x ${configurations.length} lean configurations (${names.join(", ")}), seed "${seed}"`,
    );
    recorder.note(
      `${operations} operations in ${runs} runs (shrinking included); sequences per graph: ` +
        [...perGraph].map(([kind, count]) => `${kind} ${count}`).join(", "),
    );
    recorder.note(
      `time per configuration: ${[...msPerConfiguration]
        .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`)
        .join(", ")}`,
    );
    if (details.failed) {
      const counterexample = details.counterexample?.[0] as Sequence | undefined;
      recorder.failure(
        `after ${details.numShrinks} shrinks:\n${counterexample ? describeSequence(counterexample) : "(none)"}\n` +
          `${(details.errorInstance as Error | undefined)?.message ?? ""}`,
      );
    }
  } finally {
    for (const configuration of configurations) await configuration.close();
  }
  return recorder.finish();
}
