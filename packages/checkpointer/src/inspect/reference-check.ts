import { parseValueRef } from "../codec/value-ref.js";
import type { LeanCheckpointSaver } from "../core/lean-saver.js";
import { nothingReached } from "../core/reachability.js";
import { writesOf } from "../core/row-store.js";
import { PieceGraph, type ReachedPiece } from "./piece-graph.js";
import { channelRefsOf, checkpointRowsOf, rowStoreOf, storedThreadIds } from "./saver-rows.js";

/** A referenced piece of storage that is not there or not what its id says. */
export interface DamagedReference {
  /** The item or blob id. */
  id: string;
  kind: "tree node" | "item" | "serializer blob";
  problem: "missing" | "corrupt";
  /** Its bytes are (or should be) in the blob store rather than in an item row. */
  inBlobStore: boolean;
  /** The first reference to it found (threads in order, newest checkpoint first). */
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
  /** `channel "files"` or `write <task>/<idx> to channel "files"`. */
  reference: string;
}

export interface ReferenceCheck {
  /** Distinct items and blobs reached from every row. */
  pieces: number;
  damaged: DamagedReference[];
}

/**
 * Follows every reference of every checkpoint and write row to the items and blobs it reaches,
 * each once: names every one that is missing or does not hash to its id, with the first row that
 * reaches it. Read-only, from rows and the references the saver recorded: blobs are only checked
 * to exist here; reading every blob through the store checks their bytes.
 */
export async function checkReferences(
  saver: LeanCheckpointSaver,
  options: {
    threadIds?: readonly string[];
    signal?: AbortSignal;
    onThread?: (done: number, total: number) => void;
  } = {},
): Promise<ReferenceCheck> {
  const rows = rowStoreOf(saver);
  const graph = new PieceGraph(rows, saver.blobStore);
  const threadIds = options.threadIds ?? (await storedThreadIds(saver));
  const reached = nothingReached();
  let pieces = 0;
  const damaged: DamagedReference[] = [];
  for (const [index, threadId] of threadIds.entries()) {
    if (options.signal !== undefined) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      options.signal.throwIfAborted();
    }
    for (const row of await checkpointRowsOf(saver, threadId)) {
      const note = noteDamage(damaged, {
        threadId,
        checkpointNs: row.checkpointNs,
        checkpointId: row.checkpointId,
      });
      pieces += (
        await graph.reach({ blobIds: row.blobRefs }, reached, note("the checkpoint's own metadata"))
      ).pieces;
      for (const [channel, { r }] of Object.entries(channelRefsOf(row))) {
        pieces += (
          await graph.reach({ refs: [r] }, reached, note(`channel ${JSON.stringify(channel)}`))
        ).pieces;
      }
      for (const write of await writesOf(rows, row.threadId, row.checkpointNs, row.checkpointId)) {
        const ref = parseValueRef(write.valueRef, `write ${write.taskId}/${write.idx}`);
        pieces += (
          await graph.reach(
            { refs: [ref] },
            reached,
            note(`write ${write.taskId}/${write.idx} to channel ${JSON.stringify(write.channel)}`),
          )
        ).pieces;
      }
    }
    // History a prune removed, kept under the deleted parent of a kept checkpoint.
    for (const retained of await rows.retainedRefs(threadId)) {
      const note = noteDamage(damaged, {
        threadId,
        checkpointNs: retained.checkpointNs,
        checkpointId: retained.checkpointId,
      });
      const reference = `retained history of channel ${JSON.stringify(retained.channel)}`;
      const ref = parseValueRef(retained.valueRef, reference);
      pieces += (await graph.reach({ refs: [ref] }, reached, note(reference))).pieces;
    }
    options.onThread?.(index + 1, threadIds.length);
  }
  return { pieces, damaged };
}

/** A callback for PieceGraph.reach that records each missing or corrupt piece it meets at `at`. */
function noteDamage(
  damaged: DamagedReference[],
  at: Pick<DamagedReference, "threadId" | "checkpointNs" | "checkpointId">,
) {
  return (reference: string) => (piece: ReachedPiece) => {
    if (!piece.missing && !piece.damaged) return;
    damaged.push({
      id: piece.id,
      kind: piece.kind,
      problem: piece.missing ? "missing" : "corrupt",
      inBlobStore: piece.blobId !== undefined,
      ...at,
      reference,
    });
  };
}
