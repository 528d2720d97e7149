import type { BlobStore } from "@leangraph/serde";
import { decodeNode } from "../codec/tree-node.js";
import {
  nodeChildren,
  parseChannelRefs,
  parseValueRef,
  refRoots,
  type ValueRef,
} from "../codec/value-ref.js";
import { type ItemMeta, parseBlobRefsColumn, type ReachabilityRows } from "./row-store.js";

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
 * reference in turn (walk() below). No blob is read, so an unreadable blob cannot be mistaken
 * for one that references nothing; any error aborts before anything is deleted. inspect's
 * per-thread and per-channel byte counts and verify's damage report run the same walk() from
 * those rows, so what they call reachable is what gc keeps.
 */
export interface LiveSet extends Reached {
  /** Every blob a live row or item names: item bodies in the blob store and serializer blobs. */
  blobIds: Set<string>;
}

/** What a walk reads to follow references: the rows, or a reader over them (inspect's PieceGraph). */
export type WalkRows = Pick<ReachabilityRows, "itemMeta" | "blobChildren">;

/** Where a walk starts: value refs (they lead to tree nodes and items) and serializer blobs. */
export interface WalkRoots {
  refs?: readonly ValueRef[];
  blobIds?: readonly string[];
}

/** What walks have reached; handing one to several walks makes each report only what is new. */
export interface Reached {
  items: Set<string>;
  blobIds: Set<string>;
}

export function nothingReached(): Reached {
  return { items: new Set(), blobIds: new Set() };
}

/** Told once about each piece a walk reaches first (inspect counts bytes and damage with it). */
export interface WalkVisitor {
  /** `meta` is undefined for an item no row holds; `as` is what the reference took it for. */
  item?(id: string, as: "tree node" | "item", meta: ItemMeta | undefined): void;
  /**
   * After the walk asked for the blob's children. `itemBody`: reached as the body of an item kept
   * in the blob store, not as a serializer blob.
   */
  blob?(id: string, itemBody: boolean): void;
}

/**
 * The one walk, from any roots: refs lead to tree nodes and items, tree nodes to their children,
 * every item to the serializer blobs its bytes reference (blob_refs) and, if its body lives in
 * the blob store, to that blob; blobs lead to what lg_blob_children recorded for them (a JSON
 * blob's references, a chunk list's chunks). No blob is read. Adds to `reached` and resolves it.
 */
export async function walk(
  rows: WalkRows,
  roots: WalkRoots,
  reached: Reached = nothingReached(),
  visit: WalkVisitor = {},
): Promise<Reached> {
  let items: { id: string; as: "tree node" | "item" }[] = [];
  let blobs: { id: string; itemBody: boolean }[] = [];
  const reachItem = (id: string, as: "tree node" | "item") => {
    if (reached.items.has(id)) return;
    reached.items.add(id);
    items.push({ id, as });
  };
  const reachBlob = (id: string, itemBody: boolean) => {
    if (reached.blobIds.has(id)) return;
    reached.blobIds.add(id);
    blobs.push({ id, itemBody });
  };
  for (const ref of roots.refs ?? []) {
    const { nodeIds, itemIds } = refRoots(ref);
    for (const id of nodeIds) reachItem(id, "tree node");
    for (const id of itemIds) reachItem(id, "item");
  }
  while (items.length > 0) {
    const frontier = items;
    items = [];
    const meta = await rows.itemMeta(frontier.map((item) => item.id));
    for (const { id, as } of frontier) {
      const item = meta.get(id);
      visit.item?.(id, as, item);
      if (item === undefined) continue;
      if (item.inBlobStore) reachBlob(id, true);
      for (const blobId of item.blobRefs) reachBlob(blobId, false);
      if (item.nodeBytes === undefined) continue;
      const children = nodeChildren(decodeNode(id, item.nodeBytes));
      for (const child of children.nodeIds) reachItem(child, "tree node");
      for (const child of children.itemIds) reachItem(child, "item");
    }
  }
  // Items never lead back from blobs, so the blobs can be followed once the items are done.
  for (const id of roots.blobIds ?? []) reachBlob(id, false);
  while (blobs.length > 0) {
    const frontier = blobs;
    blobs = [];
    const children = await rows.blobChildren(frontier.map((blob) => blob.id));
    for (const { id, itemBody } of frontier) visit.blob?.(id, itemBody);
    for (const list of children.values()) for (const child of list) reachBlob(child, false);
  }
  return reached;
}

/** Everything reachable from the roots the rows hold: what gc keeps. */
export async function markLive(rows: ReachabilityRows): Promise<LiveSet> {
  const roots = await rows.liveRoots();
  const refs: ValueRef[] = [];
  for (const json of roots.channelRefs)
    for (const { r } of Object.values(parseChannelRefs(json, "channel refs of a checkpoint row")))
      refs.push(r);
  for (const json of roots.valueRefs) refs.push(parseValueRef(json, "write value"));
  const blobIds = roots.blobRefs.flatMap((column) => parseBlobRefsColumn(column));
  return walk(rows, { refs, blobIds });
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
