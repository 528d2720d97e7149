import { MemorySaver } from "@langchain/langgraph";
import { expect, it } from "vitest";
import type { LeanCheckpointSaver } from "../src/index.js";
import { buildDeltaChatGraph, deltaChat } from "./fixtures/delta-chat-graph.js";
import { observedHistory } from "./reference-suite.js";

async function storedBytes(saver: LeanCheckpointSaver): Promise<number> {
  const stats = await saver.storageStats();
  return stats.dbBytes + stats.blobBytes;
}

/**
 * Issue 10's retention target: a DeltaChannel chat of `turns` turns, pruned first by age and then
 * to keepLast 10, reads back identical to the unpruned MemorySaver run at every kept checkpoint.
 */
export function testDeltaRetention(
  name: string,
  turns: number,
  open: () => Promise<{ saver: LeanCheckpointSaver; close(): Promise<void> }>,
): void {
  it(`${name}: a ${turns}-turn DeltaChannel thread pruned by age and to keepLast 10 reads back as before`, {
    timeout: 1_800_000,
  }, async () => {
    const { saver, close } = await open();
    try {
      const reference = buildDeltaChatGraph(new MemorySaver());
      const lean = buildDeltaChatGraph(saver);
      const youngTurns = Math.max(5, Math.floor(turns / 10));
      let boundaryMs = 0;
      for (const graph of [reference, lean]) {
        await deltaChat(graph, "long", turns - youngTurns);
        await new Promise((resolve) => setTimeout(resolve, 20));
        boundaryMs = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 20));
        await deltaChat(graph, "long", youngTurns);
      }
      // Checkpoints per turn, from the reference: input, __start__, then the reply.
      let checkpoints = 0;
      for await (const _ of reference.getStateHistory({ configurable: { thread_id: "long" } }))
        checkpoints += 1;
      const perTurn = checkpoints / turns;
      const youngCheckpoints = youngTurns * perTurn;
      const expected = await observedHistory(reference, "long", youngCheckpoints);
      const bytesBefore = await storedBytes(saver);

      const byAge = await saver.prune(["long"], { maxAgeMs: Date.now() - boundaryMs + 10 });
      const bytesAfterAge = await storedBytes(saver);
      expect(await observedHistory(lean, "long")).toEqual(expected);
      const byCount = await saver.prune(["long"], { keepLast: 10 });
      const bytesAfterCount = await storedBytes(saver);
      expect(await observedHistory(lean, "long")).toEqual(expected.slice(0, 10));
      expect(expected[0]!.messages).toHaveLength(2 * turns);
      // Postgres relations keep their size (VACUUM makes the space reusable, not returned).
      console.log(
        `[retention] ${name}, ${turns} turns (${checkpoints} checkpoints): ${bytesBefore} bytes; ` +
          `pruned by age (${byAge.deletedCheckpoints} checkpoints): ${bytesAfterAge} bytes; ` +
          `then to keepLast 10 (${byCount.deletedCheckpoints} more): ${bytesAfterCount} bytes`,
      );
    } finally {
      await close();
    }
  });
}
