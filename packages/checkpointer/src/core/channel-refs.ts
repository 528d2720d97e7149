import { type ChannelRefs, parseChannelRefs } from "../codec/value-ref.js";
import type { CheckpointRow } from "./row-store.js";

export type { ChannelRefs, ChannelVersion } from "../codec/value-ref.js";

/** A checkpoint row's per-channel refs; a damaged column raises the coded row error naming it. */
export function channelRefsOfRow(row: CheckpointRow): ChannelRefs {
  return parseChannelRefs(row.channelRefs, `channel refs of checkpoint ${row.checkpointId}`);
}
