import type { ValueRef } from "../codec/value-codec.js";
import { rowCorruptError } from "../errors.js";
import type { CheckpointRow } from "./row-store.js";

export type ChannelVersion = string | number;

/** What a checkpoint row stores per channel: the channel's version and where its value is. */
export type ChannelRefs = Record<string, { v: ChannelVersion; r: ValueRef }>;

export function parseChannelRefs(row: CheckpointRow): ChannelRefs {
  try {
    return JSON.parse(row.channelRefs) as ChannelRefs;
  } catch (error) {
    throw rowCorruptError(`channel refs of checkpoint ${row.checkpointId}`, error);
  }
}
