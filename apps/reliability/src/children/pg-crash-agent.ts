/**
 * Child program of the Postgres crash scenario: runs (or resumes) one thread of the chunk graph on
 * LeanPostgresSaver with its Postgres blob store, then writes the final state to `--out`.
 * Usage: pg-crash-agent <schema> <threadId> <steps> <seed> <delayMs> <outFile>
 */
import { writeFile } from "node:fs/promises";
import { LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { postgresUrl } from "@leangraph/test-postgres";
import { buildChunkGraph, canonicalChunkState } from "../support/chunk-graph.js";

const [schema, threadId, steps, seed, delayMs, outFile] = process.argv.slice(2);
const saver = LeanPostgresSaver.fromConnString(postgresUrl, { schema: schema! });
try {
  await saver.setup();
  const graph = buildChunkGraph(saver, { label: "agent" });
  const config = { configurable: { thread_id: threadId! }, recursionLimit: 10_000 };
  const existing = await graph.getState(config);
  const started = existing.values.steps !== undefined && existing.values.steps > 0;
  if (!started) {
    await graph.invoke(
      { steps: Number(steps), width: 2, seed: seed!, delayMs: Number(delayMs) },
      config,
    );
  } else if (existing.tasks.length > 0) {
    // Not `next`: a task whose writes were saved before the kill is no longer in `next`, yet the
    // superstep still has to be finished (its writes applied, the checkpoint written).
    await graph.invoke(null, config);
  }
  const final = await graph.getState(config);
  await writeFile(outFile!, canonicalChunkState(final.values as Record<string, unknown>));
} finally {
  await saver.close();
}
