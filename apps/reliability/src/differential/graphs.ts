import { AIMessage, HumanMessage } from "@langchain/core/messages";
import {
  Annotation,
  END,
  interrupt,
  MessagesDeltaValue,
  Send,
  START,
  StateGraph,
  StateSchema,
} from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { z } from "zod";

/**
 * The small graphs the differential fuzzer drives: each exercises one engine path whose
 * checkpoints a saver must hand back exactly (plain channels, Send fan-out, interrupt/resume,
 * a subgraph's own namespace, a DeltaChannel rebuilt from ancestors' writes). Every node is
 * deterministic, so two runs on two savers can only differ by what the savers return.
 */

/** Merges entries, so a `doc` of 8 or more keys is stored by the lean savers as a keyed tree. */
const mergeEntries = (left: Record<string, string>, right: Record<string, string>) => ({
  ...left,
  ...right,
});
const concat = (left: string[], right: string[]) => left.concat(right);

const PlainState = Annotation.Root({
  count: Annotation<number>({ reducer: (left, right) => left + right, default: () => 0 }),
  log: Annotation<string[]>({ reducer: concat, default: () => [] }),
  doc: Annotation<Record<string, string>>({ reducer: mergeEntries, default: () => ({}) }),
});

function buildPlainGraph(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(PlainState)
    .addNode("write", (state) => ({
      count: 1,
      log: [`write ${state.count}`],
      doc: { [`step${state.count % 10}`]: `written at ${state.count}` },
    }))
    .addNode("review", (state) => ({ log: [`review of ${state.log.length} entries`] }))
    .addEdge(START, "write")
    .addEdge("write", "review")
    .addEdge("review", END)
    .compile({ checkpointer });
}

const FanOutState = Annotation.Root({
  topics: Annotation<string[]>({ reducer: concat, default: () => [] }),
  results: Annotation<string[]>({ reducer: concat, default: () => [] }),
});

function buildSendGraph(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(FanOutState)
    .addNode("plan", (state) => ({ results: [`planned ${state.topics.length}`] }))
    .addNode("work", (task: { topic: string }) => ({ results: [`done ${task.topic}`] }))
    .addEdge(START, "plan")
    .addConditionalEdges(
      "plan",
      (state) => state.topics.slice(-3).map((topic) => new Send("work", { topic })),
      ["work"],
    )
    .addEdge("work", END)
    .compile({ checkpointer });
}

const InterruptState = Annotation.Root({
  question: Annotation<string>({ reducer: (_, right) => right, default: () => "" }),
  answers: Annotation<string[]>({ reducer: concat, default: () => [] }),
});

function buildInterruptGraph(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(InterruptState)
    .addNode("ask", (state) => {
      const answer = interrupt({ asking: state.question });
      return { answers: [`${state.question} -> ${String(answer)}`] };
    })
    .addNode("confirm", (state) => ({ answers: [`confirmed ${state.answers.length}`] }))
    .addEdge(START, "ask")
    .addEdge("ask", "confirm")
    .addEdge("confirm", END)
    .compile({ checkpointer });
}

const NotesState = Annotation.Root({
  notes: Annotation<string[]>({ reducer: concat, default: () => [] }),
});

function buildSubgraphGraph(checkpointer: BaseCheckpointSaver) {
  // Compiled without a checkpointer: it inherits the parent's and checkpoints in its own namespace.
  const child = new StateGraph(NotesState)
    .addNode("draft", (state) => ({ notes: [`draft ${state.notes.length}`] }))
    .addNode("polish", (state) => ({ notes: [`polish ${state.notes.length}`] }))
    .addEdge(START, "draft")
    .addEdge("draft", "polish")
    .addEdge("polish", END)
    .compile();
  return new StateGraph(NotesState)
    .addNode("outline", (state) => ({ notes: [`outline ${state.notes.length}`] }))
    .addNode("child", child)
    .addEdge(START, "outline")
    .addEdge("outline", "child")
    .addEdge("child", END)
    .compile({ checkpointer });
}

const DeltaChatState = new StateSchema({
  messages: MessagesDeltaValue,
  turns: z.number().default(0),
});

function buildDeltaGraph(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(DeltaChatState)
    .addNode("assistant", (state) => ({
      messages: [new AIMessage(`reply ${state.turns} to ${state.messages.length} messages`)],
      turns: state.turns + 1,
    }))
    .addEdge(START, "assistant")
    .addEdge("assistant", END)
    .compile({ checkpointer });
}

export const graphKinds = ["plain", "send", "interrupt", "subgraph", "delta"] as const;
export type GraphKind = (typeof graphKinds)[number];

/** What the fuzzer needs of any of the graphs; their state types differ, their API does not. */
export interface FuzzedGraph {
  invoke(input: unknown, config: object): Promise<unknown>;
  stream(input: unknown, config: object): Promise<AsyncIterable<unknown>>;
  getState(config: object, options?: { subgraphs?: boolean }): Promise<StateSnapshotLike>;
  getStateHistory(
    config: object,
    options?: { limit?: number; before?: object; filter?: Record<string, unknown> },
  ): AsyncIterable<StateSnapshotLike>;
  updateState(config: object, values: unknown, asNode?: string): Promise<object>;
}

export interface StateSnapshotLike {
  values: unknown;
  next: string[];
  tasks: readonly unknown[];
  metadata?: Record<string, unknown>;
  config: { configurable?: Record<string, unknown> };
  parentConfig?: { configurable?: Record<string, unknown> };
  createdAt?: string;
}

export function buildGraph(kind: GraphKind, checkpointer: BaseCheckpointSaver): FuzzedGraph {
  const builders = {
    plain: buildPlainGraph,
    send: buildSendGraph,
    interrupt: buildInterruptGraph,
    subgraph: buildSubgraphGraph,
    delta: buildDeltaGraph,
  };
  return builders[kind](checkpointer) as unknown as FuzzedGraph;
}

/** The node names `updateState(…, asNode)` may name on each graph. */
export const nodesOf: Record<GraphKind, string[]> = {
  plain: ["write", "review"],
  send: ["plan", "work"],
  interrupt: ["ask", "confirm"],
  subgraph: ["outline", "child"],
  delta: ["assistant"],
};

/**
 * A graph's input built from a generated seed value: `text` may be large (past the serializer's
 * and the codec's thresholds), `entries` is a generated object (8+ keys make a keyed tree).
 */
export function inputFor(
  kind: GraphKind,
  seed: { text: string; entries: Record<string, string>; number: number },
): unknown {
  switch (kind) {
    case "plain":
      return { count: seed.number, log: [seed.text], doc: seed.entries };
    case "send":
      return { topics: [seed.text.slice(0, 40), ...Object.keys(seed.entries).slice(0, 2)] };
    case "interrupt":
      return { question: seed.text };
    case "subgraph":
      return { notes: [seed.text, ...Object.values(seed.entries).slice(0, 2)] };
    case "delta":
      return { messages: [new HumanMessage(seed.text)] };
  }
}
