import { channelRefsOfRow } from "../channel-refs.js";
import {
  type CheckpointRow,
  type RetainedHistory,
  type RowStore,
  sortWrites,
  writesOf,
} from "../row-store.js";

/**
 * The history LangGraph replays to rebuild a channel whose value a checkpoint does not store (a
 * DeltaChannel between snapshots), as refs: walking the parent chain from the checkpoint's parent,
 * every write to the channel, up to and including the first ancestor that stores a value for it
 * (the seed). Same walk and order as BaseCheckpointSaver.getDeltaChannelHistory: newest ancestor
 * first while walking, each ancestor's writes in LangGraph's write order, oldest first at the end.
 *
 * A prune deletes ancestors, so it first stores, under each deleted checkpoint that a kept one
 * has as parent, the history a walk would collect from that parent up (its "retained history").
 * When a walk reaches a parent row that is gone, that parent's retained history continues it: the
 * result is the same as before the prune, for the kept children and for any checkpoint put under
 * the same parent later (LangGraph puts a `__copy__` under its source's parent).
 */
export async function deltaHistoryRefs(
  rows: Pick<RowStore, "getCheckpoint" | "getWrites" | "retainedHistory">,
  target: CheckpointRow,
  channels: readonly string[],
): Promise<Map<string, RetainedHistory>> {
  const newestFirst = new Map(
    channels.map((channel) => [channel, [] as RetainedHistory["writes"]]),
  );
  const seeds = new Map<string, string>();
  const remaining = new Set(channels);
  let cursor = target.parentCheckpointId;
  let parentGone = false;
  while (cursor !== undefined && remaining.size > 0) {
    const row = await rows.getCheckpoint(target.threadId, target.checkpointNs, cursor);
    if (row === undefined) {
      parentGone = true;
      break;
    }
    const writes = sortWrites(
      await writesOf(rows, row.threadId, row.checkpointNs, row.checkpointId),
    );
    for (let index = writes.length - 1; index >= 0; index -= 1) {
      const write = writes[index]!;
      if (remaining.has(write.channel))
        newestFirst.get(write.channel)!.push({ taskId: write.taskId, valueRef: write.valueRef });
    }
    const refs = channelRefsOfRow(row);
    for (const channel of [...remaining]) {
      const ref = refs[channel];
      if (ref === undefined) continue;
      seeds.set(channel, JSON.stringify(ref.r));
      remaining.delete(channel);
    }
    cursor = row.parentCheckpointId;
  }
  if (parentGone && cursor !== undefined && remaining.size > 0) {
    const retained = await rows.retainedHistory(target.threadId, target.checkpointNs, cursor, [
      ...remaining,
    ]);
    for (const [channel, history] of retained) {
      if (history.seedRef !== undefined) seeds.set(channel, history.seedRef);
      const collected = newestFirst.get(channel)!;
      for (let index = history.writes.length - 1; index >= 0; index -= 1)
        collected.push(history.writes[index]!);
    }
  }
  return new Map(
    channels.map((channel) => [
      channel,
      { seedRef: seeds.get(channel), writes: newestFirst.get(channel)!.slice().reverse() },
    ]),
  );
}
