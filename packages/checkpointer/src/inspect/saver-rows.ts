import type { ChannelRefs } from "../codec/value-ref.js";
import { channelRefsOfRow } from "../core/channel-refs.js";
import type { LeanCheckpointSaver } from "../core/lean-saver.js";
import type { CheckpointRow, RowStore } from "../core/row-store.js";

/**
 * The saver's row store, for the read-only inspect modules of this package. `rows` is protected
 * so application code cannot write behind the saver's back; these modules only read, and they
 * live here so the CLI never needs to know how rows, items and trees are laid out.
 */
export function rowStoreOf(saver: LeanCheckpointSaver): RowStore {
  return (saver as unknown as { rows: RowStore }).rows;
}

/** Thread ids in the store, sorted. */
export async function storedThreadIds(saver: LeanCheckpointSaver): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of saver.listThreadIds()) ids.push(id);
  return ids;
}

/** Every checkpoint row of one thread, newest first, undecoded. */
export function checkpointRowsOf(
  saver: LeanCheckpointSaver,
  threadId: string,
): Promise<CheckpointRow[]> {
  return rowStoreOf(saver).listCheckpoints({ threadId });
}

/** A row's per-channel refs: `{ [channel]: { v: version, r: ValueRef } }`. */
export function channelRefsOf(row: CheckpointRow): ChannelRefs {
  return channelRefsOfRow(row);
}
