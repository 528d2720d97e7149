import type { StateSnapshot } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { DemoErrorCode, LeangraphError } from "../errors.js";
import type { ProjectSpec } from "../graph/state.js";

/**
 * Where a thread stands, decided from what the graph really reached rather than from `next`
 * alone. LangGraph 1.7.3's `getState()` applies the saved task writes of the latest checkpoint
 * and lists in `next` only the tasks that have none, so a crash after every task of a superstep
 * saved its writes but before the superstep's checkpoint reads as `next: []` while `tasks` still
 * holds those tasks: the thread is not finished, and `stream(null)` completes that superstep from
 * the saved writes and goes on.
 */
export type ThreadPosition =
  /** No checkpoint: start from the options' workload. */
  | { kind: "new" }
  /** The latest checkpoint has no task left to run or to apply. */
  | { kind: "finished"; spec: ProjectSpec }
  /** A checkpoint with tasks pending (with or without saved writes): resume with `stream(null)`. */
  | { kind: "unfinished"; spec: ProjectSpec };

export async function threadPosition(
  snapshot: StateSnapshot,
  saver: BaseCheckpointSaver,
  threadId: string,
): Promise<ThreadPosition> {
  // A snapshot built from a saved checkpoint always carries its timestamp; an unknown thread not.
  if (snapshot.createdAt === undefined) return { kind: "new" };
  const spec =
    (snapshot.values.spec as ProjectSpec | null | undefined) ??
    (await savedInputSpec(saver, threadId));
  if (!spec) {
    throw new LeangraphError(
      DemoErrorCode.unknownThread,
      `thread ${threadId} has checkpoints but no project spec: it was not written by leangraph-demo`,
      { hint: "use a new --thread id, or another --run-dir" },
    );
  }
  const finished = snapshot.next.length === 0 && snapshot.tasks.length === 0;
  return finished ? { kind: "finished", spec } : { kind: "unfinished", spec };
}

/**
 * A kill right after the input checkpoint, before its `__start__` task saved a write, leaves the
 * spec only in the input channel; resuming from there must keep that workload, not the options'.
 */
async function savedInputSpec(
  saver: BaseCheckpointSaver,
  threadId: string,
): Promise<ProjectSpec | undefined> {
  const tuple = await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
  const input = tuple?.checkpoint.channel_values.__start__ as { spec?: ProjectSpec } | undefined;
  return input?.spec ?? undefined;
}
