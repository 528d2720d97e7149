import type { BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LeanCheckpointSaver } from "../src/index.js";
import { buildCounterGraph, buildDeltaChatGraph, deltaChat } from "./fixtures/delta-chat-graph.js";
import type { LifecycleFactory, LifecycleHarness } from "./lifecycle-suite.js";

/**
 * What a user can observe of one checkpoint, without what differs per run: checkpoint ids, times,
 * and the random ids LangGraph gives delta-channel messages (each message keeps its type, content
 * and position).
 */
export async function observed(graph: ReturnType<typeof buildDeltaChatGraph>, config: object) {
  const snapshot = await graph.getState(config);
  const { messages, ...values } = snapshot.values as { messages?: BaseMessage[] };
  return {
    values,
    messages: messages?.map((message) => `${message.getType()}: ${message.content}`),
    next: snapshot.next,
    step: snapshot.metadata?.step,
  };
}

/** Checkpoints of the thread, newest first (at most `limit`), as observed through the graph. */
export async function observedHistory(
  graph: ReturnType<typeof buildDeltaChatGraph>,
  threadId: string,
  limit?: number,
) {
  const states = [];
  for await (const snapshot of graph.getStateHistory(
    { configurable: { thread_id: threadId } },
    { limit },
  ))
    states.push(await observed(graph, snapshot.config));
  return states;
}

/**
 * Engine paths where the stock savers are the reference: the same operations run on MemorySaver
 * and on the lean saver, and what the graph reads back must be equal. Operations MemorySaver lacks
 * (prune) are compared against the same run on MemorySaver without them.
 */
export function describeReferenceBehaviour(name: string, create: LifecycleFactory): void {
  describe(`${name} reads back what MemorySaver does`, () => {
    let harness: LifecycleHarness;
    let saver: LeanCheckpointSaver;
    beforeEach(async () => {
      harness = await create({});
      saver = harness.saver;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    async function runBoth<T>(
      work: (checkpointer: BaseCheckpointSaver, label: string) => Promise<T>,
    ): Promise<{ reference: T; lean: T }> {
      return {
        reference: await work(new MemorySaver(), "memory"),
        lean: await work(saver, "lean"),
      };
    }

    it("continues a fork of a thread's first checkpoint from its input (updateState __copy__)", async () => {
      const { reference, lean } = await runBoth(async (checkpointer) => {
        const graph = buildCounterGraph(checkpointer);
        const config = { configurable: { thread_id: "root-fork" } };
        await graph.invoke({ count: 1 }, config);
        const history = [];
        for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
        const first = history[history.length - 1]!;
        const forkConfig = await graph.updateState(first.config, { count: 10 }, "__copy__");
        const fork = await graph.getState(forkConfig);
        const result = await graph.invoke(null, forkConfig);
        return { next: fork.next, values: fork.values, result };
      });
      expect(reference.next).toEqual(["__start__"]);
      expect(lean).toEqual(reference);
    });

    it("prune keepLast leaves every kept checkpoint of a DeltaChannel thread as it was", async () => {
      const { reference, lean } = await runBoth(async (checkpointer) => {
        const graph = buildDeltaChatGraph(checkpointer);
        await deltaChat(graph, "delta", 30);
        return { graph, history: await observedHistory(graph, "delta") };
      });
      expect(lean.history).toEqual(reference.history);
      expect(reference.history[0]!.messages).toHaveLength(60);

      const report = await saver.prune(["delta"], { keepLast: 3 });
      expect(await observedHistory(lean.graph, "delta")).toEqual(reference.history.slice(0, 3));
      expect(report.deletedCheckpoints).toBe(reference.history.length - 3);
      expect(report.checkpointsWithRetainedHistory).toBe(1);

      // Pruned again, to one: the retained history moves to the new oldest checkpoint.
      await saver.prune(["delta"], { keepLast: 1 });
      expect(await observedHistory(lean.graph, "delta")).toEqual(reference.history.slice(0, 1));
      // And the thread runs on from there exactly as the unpruned one does.
      await deltaChat(lean.graph, "delta", 2);
      await deltaChat(reference.graph, "delta", 2);
      expect(await observed(lean.graph, { configurable: { thread_id: "delta" } })).toEqual(
        await observed(reference.graph, { configurable: { thread_id: "delta" } }),
      );
    });

    it("a copy of a kept checkpoint whose parent was pruned reads its DeltaChannel as MemorySaver's copy does", async () => {
      const { reference, lean } = await runBoth(async (checkpointer) => {
        const graph = buildDeltaChatGraph(checkpointer);
        await deltaChat(graph, "copied", 6);
        return { graph };
      });
      await saver.prune(["copied"], { keepLast: 2 });
      const copyOfOldestKept = async (graph: typeof lean.graph) => {
        const kept = [];
        for await (const snapshot of graph.getStateHistory(
          { configurable: { thread_id: "copied" } },
          { limit: 2 },
        ))
          kept.push(snapshot);
        // LangGraph puts the copy under the source's parent: here a pruned checkpoint.
        const copy = await graph.updateState(kept[1]!.config, {}, "__copy__");
        return observed(graph, copy);
      };
      expect(await copyOfOldestKept(lean.graph)).toEqual(await copyOfOldestKept(reference.graph));
    });

    it("prune by age keeps every younger checkpoint of a DeltaChannel thread as it was", async () => {
      const { reference, lean } = await runBoth(async (checkpointer) => {
        const graph = buildDeltaChatGraph(checkpointer);
        await deltaChat(graph, "aged", 12);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const boundaryMs = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 20));
        await deltaChat(graph, "aged", 4);
        let younger = 0;
        for await (const snapshot of graph.getStateHistory({ configurable: { thread_id: "aged" } }))
          if (Date.parse(snapshot.createdAt!) > boundaryMs) younger += 1;
        return { graph, boundaryMs, younger, history: await observedHistory(graph, "aged") };
      });
      expect(lean.history).toEqual(reference.history);
      const dryRun = await saver.prune(["aged"], {
        maxAgeMs: Date.now() - lean.boundaryMs,
        dryRun: true,
      });
      const report = await saver.prune(["aged"], { maxAgeMs: Date.now() - lean.boundaryMs });
      expect(lean.younger).toBe(reference.younger);
      expect(report.deletedCheckpoints).toBe(reference.history.length - lean.younger);
      expect(dryRun).toMatchObject({ deletedCheckpoints: report.deletedCheckpoints, dryRun: true });
      expect(await observedHistory(lean.graph, "aged")).toEqual(
        reference.history.slice(0, lean.younger),
      );
    });

    it("a retention policy sweeps threads in bounded batches and reports what it removed", async () => {
      const graph = buildDeltaChatGraph(saver);
      for (const thread of ["a", "b", "c"]) await deltaChat(graph, thread, 3);
      let perThread = 0;
      for await (const _ of saver.list({ configurable: { thread_id: "a" } })) perThread += 1;
      const before = await observed(graph, { configurable: { thread_id: "b" } });
      const sweeper = await harness.reopen({
        retention: { keepLast: 2, threadsPerSweep: 2, sweepIntervalMs: 3_600_000 },
      });
      const first = await sweeper.sweepRetention();
      expect(first).toMatchObject({ threads: 2, completedRound: false });
      expect(first.deletedCheckpoints).toBe(2 * (perThread - 2));
      const second = await sweeper.sweepRetention();
      expect(second).toMatchObject({
        threads: 1,
        completedRound: true,
        deletedCheckpoints: perThread - 2,
      });
      const reopenedGraph = buildDeltaChatGraph(sweeper);
      expect(await observed(reopenedGraph, { configurable: { thread_id: "b" } })).toEqual(before);
      const remaining = [];
      for await (const tuple of sweeper.list({ configurable: { thread_id: "c" } }))
        remaining.push(tuple);
      expect(remaining).toHaveLength(2);
    });

    it("refuses prune and retention options it cannot apply, naming them", async () => {
      for (const options of [{}, { keepLast: -1 }, { keepLast: 1.5 }, { maxAgeMs: -3 }]) {
        await expect(saver.prune(["x"], options)).rejects.toMatchObject({
          code: "ERR_LG_INVALID_OPTION",
        });
      }
      await expect(saver.sweepRetention()).rejects.toMatchObject({
        code: "ERR_LG_CHECKPOINT_CONFIG_INVALID",
      });
    });
  });
}
