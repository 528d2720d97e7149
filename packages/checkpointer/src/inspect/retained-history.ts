import type { LeanCheckpointSaver } from "../core/lean-saver.js";
import { rowStoreOf } from "./saver-rows.js";

/**
 * History a prune kept for a thread: under each deleted parent checkpoint, the DeltaChannel
 * channels whose removed seed and writes its kept children still rebuild their value from.
 */
export interface RetainedHistoryPlace {
  checkpointNs: string;
  /** The deleted parent; kept checkpoints whose parent this is read the history. */
  parentCheckpointId: string;
  channels: string[];
}

export async function retainedHistoryPlaces(
  saver: LeanCheckpointSaver,
  threadId: string,
): Promise<RetainedHistoryPlace[]> {
  const places = new Map<string, RetainedHistoryPlace>();
  for (const retained of await rowStoreOf(saver).retainedRefs(threadId)) {
    const key = JSON.stringify([retained.checkpointNs, retained.checkpointId]);
    let place = places.get(key);
    if (place === undefined) {
      place = {
        checkpointNs: retained.checkpointNs,
        parentCheckpointId: retained.checkpointId,
        channels: [],
      };
      places.set(key, place);
    }
    if (!place.channels.includes(retained.channel)) place.channels.push(retained.channel);
  }
  return [...places.values()];
}
