import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Annotation,
  END,
  type LangGraphRunnableConfig,
  Send,
  START,
  StateGraph,
} from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";

/**
 * A small agent for the backends the demo CLI does not drive (Postgres): each superstep fans out
 * `width` tasks with Send, each producing a deterministic chunk of text (every third one 96 KB, so
 * blobs are written, the rest 2 KB, kept in rows), appended to one array channel. Same inputs,
 * same bytes, so a crashed-and-resumed run can be compared with an uninterrupted one.
 */
export const ChunkState = Annotation.Root({
  steps: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  width: Annotation<number>({ reducer: (_, next) => next, default: () => 2 }),
  seed: Annotation<string>({ reducer: (_, next) => next, default: () => "" }),
  delayMs: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  done: Annotation<number>({ reducer: (left, right) => left + right, default: () => 0 }),
  chunks: Annotation<Array<{ id: string; text: string }>>({
    reducer: (left, right) => left.concat(right),
    default: () => [],
  }),
  /** Which process ran each superstep (the turn-taking scenario checks it alternates). */
  ranBy: Annotation<string[]>({ reducer: (left, right) => left.concat(right), default: () => [] }),
});

type State = typeof ChunkState.State;

export function chunkText(seed: string, index: number): string {
  const bytes = index % 3 === 2 ? 96 * 1024 : 2 * 1024;
  const parts: string[] = [];
  let block = createHash("sha256").update(`${seed}:${index}`).digest("hex");
  let length = 0;
  while (length < bytes) {
    parts.push(block);
    length += block.length;
    block = createHash("sha256").update(block).digest("hex");
  }
  return parts.join("").slice(0, bytes);
}

export function buildChunkGraph(
  checkpointer: BaseCheckpointSaver,
  options: { label: string; interruptEachStep?: boolean },
) {
  const fanOut = (state: State) => {
    if (state.done >= state.steps) return END;
    const sends: Send[] = [];
    for (let lane = 0; lane < state.width; lane++) {
      sends.push(new Send("make", { ...state, lane }));
    }
    return sends;
  };
  const graph = new StateGraph(ChunkState)
    .addNode("start", () => ({}))
    .addNode("make", async (input: State & { lane: number }, _config: LangGraphRunnableConfig) => {
      if (input.delayMs > 0) await sleep(input.delayMs);
      const index = input.done * input.width + input.lane;
      return {
        chunks: [
          { id: `chunk-${String(index).padStart(5, "0")}`, text: chunkText(input.seed, index) },
        ],
      };
    })
    .addNode("tally", () => ({ done: 1, ranBy: [options.label] }))
    .addEdge(START, "start")
    .addConditionalEdges("start", fanOut, ["make", END])
    .addEdge("make", "tally")
    .addConditionalEdges("tally", fanOut, ["make", END]);
  return graph.compile({
    checkpointer,
    ...(options.interruptEachStep ? { interruptAfter: ["tally"] as const } : {}),
  } as never);
}

/** The final state as canonical JSON with chunks sorted by id (parallel lanes append in any order). */
export function canonicalChunkState(values: Record<string, unknown>): string {
  const chunks = [...((values.chunks ?? []) as Array<{ id: string; text: string }>)].sort((a, b) =>
    a.id.localeCompare(b.id),
  );
  return JSON.stringify({ steps: values.steps, done: values.done, chunks });
}
