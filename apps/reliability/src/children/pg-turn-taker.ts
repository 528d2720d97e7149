/**
 * Child program of the turn-taking scenario: one "machine" sharing a thread with another through
 * Postgres alone (LG_CHECKPOINTER=postgres, LG_BLOB_STORE=postgres from its env). On each
 * "turn" message from the parent it runs one superstep of the chunk graph and replies.
 * Usage: pg-turn-taker <label> <threadId> <steps> <seed>
 */
import { createCheckpointer } from "@leangraph/checkpointer";
import { buildChunkGraph } from "../support/chunk-graph.js";

const [label, threadId, steps, seed] = process.argv.slice(2);
const saver = await createCheckpointer({ env: process.env });
const graph = buildChunkGraph(saver, { label: label!, interruptEachStep: true });
const config = { configurable: { thread_id: threadId! }, recursionLimit: 10_000 };

process.on("message", async (message: { type: string }) => {
  try {
    if (message.type === "turn") {
      const existing = await graph.getState(config);
      const started = (existing.values.steps ?? 0) > 0;
      await graph.invoke(
        started ? null : { steps: Number(steps), width: 2, seed: seed!, delayMs: 0 },
        config,
      );
      const after = await graph.getState(config);
      process.send!({ type: "done", doneSteps: after.values.done, next: after.next });
    } else if (message.type === "exit") {
      await saver.close();
      process.disconnect();
    }
  } catch (error) {
    const { code, message: text } = error as { code?: string; message?: string };
    process.send!({ type: "error", code, message: text });
  }
});
process.send!({ type: "ready" });
