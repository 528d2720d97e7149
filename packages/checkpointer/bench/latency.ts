import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { type Checkpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import type { ManagedCheckpointer } from "../src/index.js";

/**
 * A chat-like state as LangGraph's loop writes it: one `messages` channel growing by one message
 * per checkpoint plus two small channels, only the changed ones in newVersions. The conversation
 * starts at `initialMessages` so the state is realistic, not empty.
 */
type ParentConfig = { configurable: Record<string, unknown> };

export class ChatLatencyRun {
  readonly putUs: number[] = [];
  readonly getTupleUs: number[] = [];
  readonly #saver: ManagedCheckpointer;
  readonly #messages: unknown[] = [];
  #parent: ParentConfig;
  #version = 1;
  #iteration = 0;

  constructor(saver: ManagedCheckpointer, initialMessages: number) {
    this.#saver = saver;
    this.#parent = { configurable: { thread_id: `latency-${uuid6(-1)}`, checkpoint_ns: "" } };
    for (let index = 0; index < initialMessages; index += 1) {
      this.#messages.push(
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
  }

  async step(): Promise<void> {
    const iteration = this.#iteration++;
    this.#messages.push(
      new AIMessage({
        content: `turn ${iteration}: ${"lorem ipsum ".repeat(20)}`,
        id: `t${iteration}`,
      }),
    );
    this.#version += 1;
    const version = this.#version;
    const checkpoint: Checkpoint = {
      v: 4,
      id: uuid6(-1),
      ts: new Date().toISOString(),
      channel_values: { messages: [...this.#messages], turn: iteration, "branch:to:agent": null },
      channel_versions: { messages: version, turn: version, "branch:to:agent": version },
      versions_seen: { agent: { messages: version - 1 } },
    };
    const newVersions =
      iteration === 0 ? checkpoint.channel_versions : { messages: version, turn: version };
    let started = performance.now();
    const config = await this.#saver.put(
      this.#parent,
      checkpoint,
      { source: "loop", step: iteration, parents: {} },
      newVersions,
    );
    this.putUs.push((performance.now() - started) * 1000);
    started = performance.now();
    const tuple = await this.#saver.getTuple(config);
    this.getTupleUs.push((performance.now() - started) * 1000);
    const readBack = tuple?.checkpoint.channel_values.messages as unknown[] | undefined;
    if (readBack?.length !== this.#messages.length)
      throw new Error("latency bench read back a different state");
    this.#parent = config as ParentConfig;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}
