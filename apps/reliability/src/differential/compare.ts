import { MemorySaver } from "@langchain/langgraph";
import type { LeanConfiguration } from "./configurations.js";
import type { Sequence } from "./operations.js";
import { runSequence } from "./run.js";

const shownChars = 400;

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > shownChars ? `${text.slice(0, shownChars)}…` : text;
}

/** The first place two observations differ, as a path and both values; undefined when equal. */
export function firstDifference(reference: unknown, lean: unknown, path = ""): string | undefined {
  if (Object.is(reference, lean)) return undefined;
  const bothObjects =
    typeof reference === "object" &&
    reference !== null &&
    typeof lean === "object" &&
    lean !== null;
  if (!bothObjects || Array.isArray(reference) !== Array.isArray(lean)) {
    return `at ${path || "(root)"}: MemorySaver ${shown(reference)}, lean ${shown(lean)}`;
  }
  const referenceKeys = Object.keys(reference);
  const leanKeys = Object.keys(lean);
  if (referenceKeys.join("\0") !== leanKeys.join("\0")) {
    return `at ${path || "(root)"}: MemorySaver keys ${shown(referenceKeys)}, lean keys ${shown(leanKeys)}`;
  }
  for (const key of referenceKeys) {
    const inner = firstDifference(
      (reference as Record<string, unknown>)[key],
      (lean as Record<string, unknown>)[key],
      Array.isArray(reference) ? `${path}[${key}]` : `${path}.${key}`,
    );
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/**
 * Runs `sequence` on a fresh MemorySaver and on every lean configuration (each on a thread of its
 * own, `threadId`), and names the first configuration and place where what a user observes
 * differs. Undefined when every configuration observed exactly what MemorySaver did.
 */
export async function differenceOf(
  sequence: Sequence,
  configurations: readonly LeanConfiguration[],
  threadId: string,
  msPerConfiguration?: Map<string, number>,
): Promise<string | undefined> {
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const startedMs = performance.now();
    try {
      return await work();
    } finally {
      const ms = performance.now() - startedMs;
      msPerConfiguration?.set(name, (msPerConfiguration.get(name) ?? 0) + ms);
    }
  };
  const reference = await timed("MemorySaver", () =>
    runSequence(sequence, new MemorySaver(), undefined, threadId),
  );
  // The lean configurations run side by side (each its own saver and thread): the Postgres ones
  // mostly wait on the server, so this takes about the time of the slowest, not the sum.
  const observed = await Promise.all(
    configurations.map((configuration) =>
      timed(configuration.name, () =>
        runSequence(sequence, configuration.saver, configuration.saver, threadId),
      ).catch((error: unknown) => new RunThrew(error)),
    ),
  );
  for (const [index, configuration] of configurations.entries()) {
    const run = observed[index];
    if (run instanceof RunThrew) {
      return `${configuration.name}: the run threw ${(run.error as Error).stack ?? String(run.error)}`;
    }
    const difference = firstDifference(reference, run);
    if (difference !== undefined) return `${configuration.name}: ${difference}`;
  }
  return undefined;
}

class RunThrew {
  constructor(readonly error: unknown) {}
}
