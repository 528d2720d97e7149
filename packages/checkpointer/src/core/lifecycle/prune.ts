import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { channelRefsOfRow } from "../channel-refs.js";
import { deltaHistoryRefs } from "../read/delta-history.js";
import type { CheckpointRow, RetainedHistory, RowStore } from "../row-store.js";
import { planPrune, type RetentionRule } from "./retention.js";

/** What the rows of a prune came to (the collection after it is the saver's). */
export interface PrunedRows {
  deletedCheckpoints: number;
  /** Kept checkpoints that now carry the part of a delta channel's history the prune removed. */
  checkpointsWithRetainedHistory: number;
}

/**
 * Removes old checkpoints of these threads in one exclusive transaction (a dry run only counts).
 * Every checkpoint that remains reads back exactly as before, DeltaChannel values included: before
 * deleting a kept checkpoint's ancestors, the part of each delta channel's history they held is
 * stored under the deleted parent (retained history, which core/reachability.ts counts as a root
 * and core/read/delta-history.ts continues in).
 */
export function pruneRows(
  rows: RowStore,
  serde: SerializerProtocol,
  threadIds: readonly string[],
  rule: RetentionRule,
  options: { dryRun: boolean; nowMs: number },
): Promise<PrunedRows> {
  return rows.write(
    async (tx) => {
      let deletedCheckpoints = 0;
      let checkpointsWithRetainedHistory = 0;
      for (const threadId of threadIds) {
        const plan = planPrune(await tx.checkpointPlaces(threadId), rule, options.nowMs);
        deletedCheckpoints += plan.deleted.length;
        if (options.dryRun || plan.deleted.length === 0) continue;
        // Every history is computed before anything is deleted, from the thread as it is, and
        // kept under the deleted parent: children of one parent share it.
        const retained = new Map<
          string,
          { checkpointNs: string; histories: Map<string, RetainedHistory> }
        >();
        for (const place of plan.cutPoints) {
          const row = await rows.getCheckpoint(threadId, place.checkpointNs, place.checkpointId);
          if (row === undefined || row.parentCheckpointId === undefined) continue;
          const histories = await historiesToRetain(rows, serde, row);
          if (histories.size === 0) continue;
          checkpointsWithRetainedHistory += 1;
          const key = `${row.checkpointNs}\0${row.parentCheckpointId}`;
          const merged = retained.get(key)?.histories ?? new Map<string, RetainedHistory>();
          for (const [channel, history] of histories) merged.set(channel, history);
          retained.set(key, { checkpointNs: row.checkpointNs, histories: merged });
        }
        for (const [key, { checkpointNs, histories }] of retained) {
          const parentId = key.slice(checkpointNs.length + 1);
          await tx.putRetainedHistory(threadId, checkpointNs, parentId, histories);
        }
        await tx.deleteCheckpoints(threadId, plan.deleted);
        await tx.dropUnusedRetained(threadId);
      }
      return { deletedCheckpoints, checkpointsWithRetainedHistory };
    },
    { exclusive: true },
  );
}

/**
 * The channels LangGraph may rebuild by walking up from `row`: those with a version but no
 * stored value (a DeltaChannel between snapshots, and ephemeral channels, whose walk ends at
 * the nearest ancestor that stored them). Channels without history past `row` are left out.
 */
async function historiesToRetain(
  rows: RowStore,
  serde: SerializerProtocol,
  row: CheckpointRow,
): Promise<Map<string, RetainedHistory>> {
  const skeleton = (await serde.loadsTyped(row.checkpointType, row.checkpoint)) as {
    channel_versions?: Record<string, unknown>;
  };
  const stored = channelRefsOfRow(row);
  const channels = Object.keys(skeleton.channel_versions ?? {}).filter(
    (channel) => !(channel in stored),
  );
  const histories = new Map<string, RetainedHistory>();
  if (channels.length === 0) return histories;
  for (const [channel, history] of await deltaHistoryRefs(rows, row, channels)) {
    if (history.seedRef !== undefined || history.writes.length > 0) histories.set(channel, history);
  }
  return histories;
}
