import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { safePoint } from "../interrupt.js";

/**
 * The one place the CLI meets the savers' lifecycle API: `prune(threadIds, { keepLast, maxAgeMs,
 * dryRun })`, `gc({ graceMs })`, `garbage({ graceMs })` (gc's dry run) and `listThreadIds()`.
 */

export interface PruneRequest {
  threadIds: readonly string[];
  keepLast: number;
  maxAgeMs: number | undefined;
  dryRun: boolean;
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
  const ids: string[] = [];
  for await (const id of saver.listThreadIds()) ids.push(id);
  return ids;
}

export async function pruneThreads(
  saver: LeanCheckpointSaver,
  request: PruneRequest,
  options: { signal?: AbortSignal; onThread?: (done: number, total: number) => void } = {},
): Promise<PruneReport> {
  const report: PruneReport = { threads: 0, deletedCheckpoints: 0, dryRun: request.dryRun };
  for (let start = 0; start < request.threadIds.length; start += pruneBatchSize) {
    if (options.signal) await safePoint(options.signal);
    const batch = request.threadIds.slice(start, start + pruneBatchSize);
    const pruned = await saver.prune(batch, {
      keepLast: request.keepLast,
      maxAgeMs: request.maxAgeMs,
      dryRun: request.dryRun,
    });
    report.threads += batch.length;
    report.deletedCheckpoints += pruned.deletedCheckpoints;
    options.onThread?.(report.threads, request.threadIds.length);
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
  // The saver's read-only twin of gc: the same liveness walk and the same rule.
  const garbage = await saver.garbage({ graceMs: request.graceMs, nowMs: request.nowMs });
  const doomed = garbage.collectableBlobs;
  return {
    deletedItems: garbage.deadItems,
    deletedBlobs: doomed.length,
    blobBytes: doomed.reduce((sum, blob) => sum + blob.bytes, 0),
    dryRun: true,
  };
}
