import type { ChannelRefs } from "../codec/value-ref.js";
import { channelRefsOfRow } from "../core/channel-refs.js";
import type { LeanCheckpointSaver } from "../core/lean-saver.js";
import type { CheckpointRow } from "../core/row-store.js";
import { type ReadOnlyRows, readOnlyRowsOf } from "../core/saver-rows-registry.js";

/**
 * The saver's rows, read-only, for the inspect modules of this package: they live here so the
 * CLI never needs to know how rows, items and trees are laid out.
 */
export function rowStoreOf(saver: LeanCheckpointSaver): ReadOnlyRows {
  return readOnlyRowsOf(saver);
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
