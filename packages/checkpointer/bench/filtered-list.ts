import { type Checkpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import type { ManagedCheckpointer } from "../src/index.js";

/**
 * `list(thread, { filter })` on one thread of `checkpoints` checkpoints with LangGraph-like
 * metadata (every tenth an input), for a saver. Timed: a filter matching one checkpoint (by
 * step) and one matching a tenth (by source); each consumes the whole listing.
 */
export async function fillThread(saver: ManagedCheckpointer, checkpoints: number): Promise<string> {
  const threadId = `filtered-${uuid6(-1)}`;
  let parent = { configurable: { thread_id: threadId, checkpoint_ns: "" } } as {
    configurable: Record<string, unknown>;
  };
  for (let step = 0; step < checkpoints; step += 1) {
    const checkpoint: Checkpoint = {
      v: 4,
      id: uuid6(step),
      ts: new Date().toISOString(),
      channel_values: { step, note: `step ${step}` },
      channel_versions: { step: step + 1, note: step + 1 },
      versions_seen: {},
    };
    parent = (await saver.put(
      parent,
      checkpoint,
      { source: step % 10 === 0 ? "input" : "loop", step, parents: {} },
      { step: step + 1, note: step + 1 },
    )) as typeof parent;
  }
  return threadId;
}

export async function timeFilteredList(
  saver: ManagedCheckpointer,
  threadId: string,
  filter: Record<string, unknown>,
): Promise<{ ms: number; matches: number }> {
  const started = performance.now();
  let matches = 0;
  for await (const _ of saver.list({ configurable: { thread_id: threadId } }, { filter }))
    matches += 1;
  return { ms: performance.now() - started, matches };
}
