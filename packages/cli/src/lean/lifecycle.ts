import {
  type LeanCheckpointSaver,
  type StoredCheckpoint,
  storageBreakdown,
  storedCheckpoints,
  storedThreadIds,
} from "@leangraph/checkpointer";
import { safePoint } from "../interrupt.js";

/**
 * The one place the CLI meets the savers' lifecycle API, written against today's
 * `prune(threadIds, { keepLast }) → number` and `gc({ graceMs }) → { deletedItems, deletedBlobs }`.
 *
 * Issue 10 changes that API to `prune(threadIds, { keepLast?, maxAgeMs?, dryRun? }) → { deletedCheckpoints, … }`,
 * `gc({ graceMs, dryRun? })` and adds `listThreadIds()`. Adopting it: `pruneThreads` becomes one
 * call per batch passing `{ keepLast, maxAgeMs, dryRun }` straight through (delete the emulation
 * below), `collectGarbage` passes `dryRun` through. `threadIdsOf` already prefers
 * `listThreadIds()` when the saver has it. Assumed semantics of the new prune, which the
 * emulation implements today: a checkpoint is deleted when it is not among the newest `keepLast`
 * of its namespace AND, when `maxAgeMs` is given, its `ts` is older than now − maxAgeMs.
 */

export interface PruneRequest {
  threadIds: readonly string[];
  keepLast: number;
  maxAgeMs: number | undefined;
  dryRun: boolean;
  nowMs: number;
}

export interface PruneReport {
  threads: number;
  deletedCheckpoints: number;
  dryRun: boolean;
}

export interface GcRequest {
  graceMs: number;
  dryRun: boolean;
  nowMs: number;
}

export interface GcReport {
  deletedItems: number | undefined;
  deletedBlobs: number;
  /** Dry runs only: bytes of the blobs that would go. */
  blobBytes: number | undefined;
  dryRun: boolean;
}

/** Threads per prune call: each call ends with a mark-and-sweep over the whole store. */
const pruneBatchSize = 100;

export async function threadIdsOf(saver: LeanCheckpointSaver): Promise<string[]> {
  const withList = saver as LeanCheckpointSaver & { listThreadIds?: () => AsyncIterable<string> };
  if (typeof withList.listThreadIds === "function") {
    const ids: string[] = [];
    for await (const id of withList.listThreadIds()) ids.push(id);
    return ids;
  }
  return storedThreadIds(saver);
}

/**
 * How many of the newest checkpoints today's `prune({ keepLast })` must keep in this thread so
 * that no namespace loses a checkpoint it should keep. Today's keepLast is one number per call,
 * applied to each namespace; with `maxAgeMs` the number needed differs per namespace, so the
 * largest is taken: never deletes what should stay, may keep a few more in a thread with several
 * namespaces.
 */
export function keepCountFor(
  checkpoints: readonly StoredCheckpoint[],
  keepLast: number,
  maxAgeMs: number | undefined,
  nowMs: number,
): { keep: number; deletable: number } {
  const byNamespace = new Map<string, StoredCheckpoint[]>();
  for (const checkpoint of checkpoints) {
    const list = byNamespace.get(checkpoint.checkpointNs) ?? [];
    byNamespace.set(checkpoint.checkpointNs, list);
    list.push(checkpoint);
  }
  let keep = keepLast;
  if (maxAgeMs !== undefined) {
    const cutoffMs = nowMs - maxAgeMs;
    for (const list of byNamespace.values()) {
      // Newest first (the order prune uses): keep everything up to the last young checkpoint.
      list.sort((a, b) => (a.checkpointId < b.checkpointId ? 1 : -1));
      let needed = 0;
      for (const [index, checkpoint] of list.entries()) {
        const tsMs = checkpoint.ts === undefined ? Number.NaN : Date.parse(checkpoint.ts);
        // An unreadable ts counts as young: never delete on a guess.
        if (!Number.isFinite(tsMs) || tsMs >= cutoffMs) needed = index + 1;
      }
      keep = Math.max(keep, needed);
    }
  }
  let deletable = 0;
  for (const list of byNamespace.values()) deletable += Math.max(0, list.length - keep);
  return { keep, deletable };
}

export async function pruneThreads(
  saver: LeanCheckpointSaver,
  request: PruneRequest,
  options: { signal?: AbortSignal; onThread?: (done: number, total: number) => void } = {},
): Promise<PruneReport> {
  const report: PruneReport = { threads: 0, deletedCheckpoints: 0, dryRun: request.dryRun };
  const byKeep = new Map<number, string[]>();
  for (const [index, threadId] of request.threadIds.entries()) {
    if (options.signal) await safePoint(options.signal);
    const checkpoints = await storedCheckpoints(saver, threadId);
    const { keep, deletable } = keepCountFor(
      checkpoints,
      request.keepLast,
      request.maxAgeMs,
      request.nowMs,
    );
    report.threads += 1;
    options.onThread?.(index + 1, request.threadIds.length);
    if (deletable === 0) continue;
    if (request.dryRun) {
      report.deletedCheckpoints += deletable;
      continue;
    }
    const batch = byKeep.get(keep) ?? [];
    byKeep.set(keep, batch);
    batch.push(threadId);
  }
  for (const [keep, threadIds] of byKeep) {
    for (let start = 0; start < threadIds.length; start += pruneBatchSize) {
      if (options.signal) await safePoint(options.signal);
      report.deletedCheckpoints += await saver.prune(
        threadIds.slice(start, start + pruneBatchSize),
        {
          keepLast: keep,
        },
      );
    }
  }
  return report;
}

export async function collectGarbage(
  saver: LeanCheckpointSaver,
  request: GcRequest,
): Promise<GcReport> {
  if (!request.dryRun) {
    const report = await saver.gc({ graceMs: request.graceMs });
    return { ...report, blobBytes: undefined, dryRun: false };
  }
  // Today's gc has no dry run: the orphan blobs past the grace period are what it would delete.
  // (Items are not counted; blobs of items it would sweep count only once past the grace.)
  const breakdown = await storageBreakdown(saver);
  const cutoffMs = request.nowMs - request.graceMs;
  const doomed = breakdown.orphanBlobs.filter((blob) => blob.writtenAtMs <= cutoffMs);
  return {
    deletedItems: undefined,
    deletedBlobs: doomed.length,
    blobBytes: doomed.reduce((sum, blob) => sum + blob.bytes, 0),
    dryRun: true,
  };
}
