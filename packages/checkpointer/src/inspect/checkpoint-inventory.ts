import { LeangraphError } from "@leangraph/serde";
import type { LeanCheckpointSaver } from "../core/lean-saver.js";
import { type CheckpointRow, writesOf } from "../core/row-store.js";
import { checkpointRowsOf, rowStoreOf } from "./saver-rows.js";

/** One stored checkpoint, described without decoding its channel values. */
export interface StoredCheckpoint {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
  parentCheckpointId: string | undefined;
  /**
   * The checkpoint's own `ts` (ISO 8601), as LangGraph wrote it; undefined when the stored
   * skeleton cannot be decoded (`getTuple` on that checkpoint raises the coded error).
   */
  ts: string | undefined;
  /** Pending write rows stored for this checkpoint. */
  writeCount: number;
}

/**
 * What a thread holds, newest first, at the cost of reading rows and the small serialized
 * checkpoint skeleton only: no channel value, item or blob is read. An importer uses it to see
 * which checkpoints (and how many of their writes) are already stored; retention uses `ts`.
 */
export async function storedCheckpoints(
  saver: LeanCheckpointSaver,
  threadId: string,
): Promise<StoredCheckpoint[]> {
  const rows = rowStoreOf(saver);
  const stored: StoredCheckpoint[] = [];
  for (const row of await checkpointRowsOf(saver, threadId)) {
    const skeleton = await skeletonOf(saver, row);
    const writes = await writesOf(rows, row.threadId, row.checkpointNs, row.checkpointId);
    stored.push({
      threadId: row.threadId,
      checkpointNs: row.checkpointNs,
      checkpointId: row.checkpointId,
      parentCheckpointId: row.parentCheckpointId,
      ts: typeof skeleton?.ts === "string" ? skeleton.ts : undefined,
      writeCount: writes.length,
    });
  }
  return stored;
}

/**
 * The row's serialized checkpoint without its values, or undefined when it cannot be decoded
 * (a damaged row: `getTuple` on it raises the coded error, and `verify` names it). Anything that
 * is not a decoding failure is rethrown: "could not read" must never pass for "nothing there".
 */
async function skeletonOf(
  saver: LeanCheckpointSaver,
  row: CheckpointRow,
): Promise<{ ts?: unknown } | undefined> {
  try {
    return (await saver.serde.loadsTyped(row.checkpointType, row.checkpoint)) as { ts?: unknown };
  } catch (error) {
    if (error instanceof LeangraphError || error instanceof SyntaxError) return undefined;
    throw error;
  }
}
