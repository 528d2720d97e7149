import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { type Checkpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import type { ManagedCheckpointer } from "../src/index.js";

export interface LatencyResult {
  putMedianUs: number;
  putP95Us: number;
  getTupleMedianUs: number;
  getTupleP95Us: number;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

/**
 * A chat-like state as LangGraph's loop writes it: one `messages` channel growing by one message
 * per checkpoint, a couple of small channels, only `messages` in newVersions. The conversation
 * starts at `initialMessages` so the state is realistic, not empty.
 */
export async function measureLatency(
  saver: ManagedCheckpointer,
  options: { iterations: number; initialMessages: number },
): Promise<LatencyResult> {
  const threadId = `latency-${uuid6(-1)}`;
  const messages: unknown[] = [];
  for (let index = 0; index < options.initialMessages; index += 1) {
    messages.push(
      index % 2 === 0
        ? new HumanMessage({
            content: `question ${index}: how do I keep checkpoints small?`,
            id: `h${index}`,
          })
        : new AIMessage({
            content: `answer ${index}: ${"store only ids and deltas; ".repeat(12)}`,
            id: `a${index}`,
          }),
    );
  }
  let parent = { configurable: { thread_id: threadId, checkpoint_ns: "" } } as {
    configurable: Record<string, unknown>;
  };
  let version = 1;
  const putUs: number[] = [];
  const getUs: number[] = [];
  for (let iteration = 0; iteration < options.iterations; iteration += 1) {
    messages.push(
      new AIMessage({
        content: `turn ${iteration}: ${"lorem ipsum ".repeat(20)}`,
        id: `t${iteration}`,
      }),
    );
    version += 1;
    const checkpoint: Checkpoint = {
      v: 4,
      id: uuid6(-1),
      ts: new Date().toISOString(),
      channel_values: { messages: [...messages], turn: iteration, "branch:to:agent": null },
      channel_versions: { messages: version, turn: version, "branch:to:agent": version },
      versions_seen: { agent: { messages: version - 1 } },
    };
    const newVersions =
      iteration === 0 ? checkpoint.channel_versions : { messages: version, turn: version };
    let started = performance.now();
    const config = await saver.put(
      parent,
      checkpoint,
      { source: "loop", step: iteration, parents: {} },
      newVersions,
    );
    putUs.push((performance.now() - started) * 1000);
    started = performance.now();
    const tuple = await saver.getTuple(config);
    getUs.push((performance.now() - started) * 1000);
    if (
      (tuple?.checkpoint.channel_values.messages as unknown[] | undefined)?.length !==
      messages.length
    ) {
      throw new Error("latency bench read back a different state");
    }
    parent = config as typeof parent;
  }
  // The first iterations warm caches and JIT; medians over the rest.
  const warm = Math.min(10, Math.floor(options.iterations / 5));
  const puts = putUs.slice(warm).sort((a, b) => a - b);
  const gets = getUs.slice(warm).sort((a, b) => a - b);
  return {
    putMedianUs: percentile(puts, 0.5),
    putP95Us: percentile(puts, 0.95),
    getTupleMedianUs: percentile(gets, 0.5),
    getTupleP95Us: percentile(gets, 0.95),
  };
}
