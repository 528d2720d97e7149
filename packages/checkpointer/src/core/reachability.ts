import type { BlobStore } from "@leangraph/serde";
import { decodeNode } from "../codec/tree-node.js";
import {
  nodeChildren,
  parseChannelRefs,
  parseValueRef,
  rootItemIds,
  type ValueRef,
} from "../codec/value-ref.js";
import { parseBlobRefsColumn, type ReachabilityRows } from "./row-store.js";

/**
 * Where liveness is decided, for everything that deletes or reports: gc (core/lifecycle/mark-sweep.ts),
 * `storageStats()`, the orphan report of `storageBreakdown` (leangraph inspect), `gc --dry-run`
 * and verify. Nothing else may decide whether an item or a blob is alive (a test greps `src/`
 * for that): a second copy of this rule once called a whole live thread garbage because it did
 * not know about retained history.
 *
 * The roots, all read from rows (LiveRoots):
 * - every checkpoint row: its channel refs, and the serializer blobs its own checkpoint and
 *   metadata bytes reference (blob_refs);
 * - every pending write row (lg_writes): its value ref;
 * - every retained DeltaChannel history row (lg_retained_history): the seed and writes a prune
 *   removed but a kept checkpoint still rebuilds its value from;
 * - copied threads are rows like any other: a copy is a root of its own.
 * From them one walk: refs lead to items, tree nodes to their children, every item records the
 * serializer blobs its bytes reference (blob_refs), and lg_blob_children what those blobs
 * reference in turn. No blob is read, so an unreadable blob cannot be mistaken for one that
 * references nothing; any error aborts before anything is deleted.
 */
export interface LiveSet {
  items: Set<string>;
  /** Every blob a live row or item names: item bodies in the blob store and serializer blobs. */
  blobIds: Set<string>;
}

/** The one walk: everything reachable from the roots the rows hold. */
export async function markLive(rows: ReachabilityRows): Promise<LiveSet> {
  const roots = await rows.liveRoots();
  const items = new Set<string>();
  const blobIds = new Set<string>();
  let frontier: string[] = [];
  const reach = (ref: ValueRef) => {
    for (const id of rootItemIds(ref)) {
      if (!items.has(id)) {
        items.add(id);
        frontier.push(id);
      }
    }
  };
  for (const json of roots.channelRefs)
    for (const { r } of Object.values(parseChannelRefs(json, "channel refs of a checkpoint row")))
      reach(r);
  for (const json of roots.valueRefs) reach(parseValueRef(json, "write value"));
  for (const column of roots.blobRefs)
    for (const id of parseBlobRefsColumn(column)) blobIds.add(id);
  while (frontier.length > 0) {
    const meta = await rows.itemMeta(frontier);
    frontier = [];
    for (const [id, item] of meta) {
      if (item.inBlobStore) blobIds.add(id);
      for (const blobId of item.blobRefs) blobIds.add(blobId);
      if (item.nodeBytes === undefined) continue;
      const children = nodeChildren(decodeNode(id, item.nodeBytes));
      for (const child of [...children.nodeIds, ...children.itemIds]) {
        if (!items.has(child)) {
          items.add(child);
          frontier.push(child);
        }
      }
    }
  }
  // Blobs name blobs too (JSON blobs, chunk lists): follow what was recorded for them.
  let blobFrontier = [...blobIds];
  while (blobFrontier.length > 0) {
    const children = await rows.blobChildren(blobFrontier);
    blobFrontier = [];
    for (const list of children.values()) {
      for (const child of list) {
        if (blobIds.has(child)) continue;
        blobIds.add(child);
        blobFrontier.push(child);
      }
    }
  }
  return { items, blobIds };
}

/** Item rows the walk did not reach: what gc deletes first. */
export async function unreachedItems(
  rows: ReachabilityRows,
  live: LiveSet,
): Promise<{ id: string; inBlobStore: boolean }[]> {
  return (await rows.allItems()).filter((item) => !live.items.has(item.id));
}

/** A blob as the store lists it. */
export interface StoredBlob {
  id: string;
  bytes: number;
  writtenAtMs: number;
}

/** Every blob in the store with its size and age; one deleted between list and stat is skipped. */
export async function* storedBlobs(blobStore: BlobStore): AsyncGenerator<StoredBlob> {
  for await (const id of blobStore.list()) {
    const stat = await blobStore.stat(id);
    // Deleted between list and stat (a concurrent gc): it is neither counted nor an orphan.
    if (stat !== undefined) yield { id, bytes: stat.bytes, writtenAtMs: stat.writtenAtMs };
  }
}

/**
 * How many blobs the store holds and their bytes (`storageStats()`, `garbage()`); `onBlob` sees
 * each one on the way, so a report that also classifies blobs lists the store once.
 */
export async function blobTotals(
  blobStore: BlobStore,
  onBlob?: (blob: StoredBlob) => void,
): Promise<{ blobCount: number; blobBytes: number }> {
  let blobCount = 0;
  let blobBytes = 0;
  for await (const blob of storedBlobs(blobStore)) {
    blobCount += 1;
    blobBytes += blob.bytes;
    onBlob?.(blob);
  }
  return { blobCount, blobBytes };
}

/**
 * A blob gc may delete: nothing live names it, and either it was the body of an item gc deletes
 * (no put can be about to reference it: items are reused only through their rows) or it is
 * older than the grace period (a concurrent put may have written a younger one and not yet
 * committed the row that names it).
 */
export function isCollectable(
  blobId: string,
  writtenAtMs: number | undefined,
  live: LiveSet,
  bodiesOfDeadItems: ReadonlySet<string>,
  cutoffMs: number,
): boolean {
  if (live.blobIds.has(blobId)) return false;
  return bodiesOfDeadItems.has(blobId) || (writtenAtMs !== undefined && writtenAtMs <= cutoffMs);
}

/** What is not alive in a store, as `garbage()` reports it (nothing is deleted). */
export interface GarbageReport {
  /** Item rows nothing reaches. */
  deadItems: number;
  /** Every stored blob nothing reaches, whatever its age; largest first. */
  orphanBlobs: StoredBlob[];
  /** The orphan blobs a `gc({ graceMs })` run now would delete; largest first. */
  collectableBlobs: StoredBlob[];
  blobCount: number;
  blobBytes: number;
}

/**
 * The read-only twin of gc: the same walk and the same rule (isCollectable), so what inspect
 * calls an orphan and what `gc --dry-run` counts are what gc deletes.
 */
export async function findGarbage(
  rows: ReachabilityRows,
  blobStore: BlobStore,
  options: { graceMs: number; nowMs: number },
): Promise<GarbageReport> {
  const live = await markLive(rows);
  const deadItems = await unreachedItems(rows, live);
  const bodiesOfDeadItems = new Set(
    deadItems.filter((item) => item.inBlobStore).map((item) => item.id),
  );
  const cutoffMs = Number.isFinite(options.graceMs)
    ? options.nowMs - options.graceMs
    : Number.NEGATIVE_INFINITY;
  const orphanBlobs: StoredBlob[] = [];
  const collectableBlobs: StoredBlob[] = [];
  const { blobCount, blobBytes } = await blobTotals(blobStore, (blob) => {
    if (live.blobIds.has(blob.id)) return;
    orphanBlobs.push(blob);
    if (isCollectable(blob.id, blob.writtenAtMs, live, bodiesOfDeadItems, cutoffMs))
      collectableBlobs.push(blob);
  });
  const largestFirst = (a: StoredBlob, b: StoredBlob) => b.bytes - a.bytes;
  return {
    deadItems: deadItems.length,
    orphanBlobs: orphanBlobs.sort(largestFirst),
    collectableBlobs: collectableBlobs.sort(largestFirst),
    blobCount,
    blobBytes,
  };
}
