import type { BlobStore } from "@leangraph/serde";
import { childItemIds, decodeNode } from "../codec/tree-node.js";
import { parseValueRef, rootItemIds, type ValueRef } from "../codec/value-codec.js";
import { parseBlobRefsColumn, type RowStore, type RowWriteTransaction } from "./row-store.js";

export interface GcReport {
  deletedItems: number;
  deletedBlobs: number;
}

interface LiveSet {
  items: Set<string>;
  /** Every blob a live row or item names: item bodies in the blob store and serializer blobs. */
  blobIds: Set<string>;
}

/**
 * Everything reachable from a checkpoint, write or retained-history row, decided from rows
 * alone: refs lead to items, tree nodes to their children, every row and item records the
 * serializer's blobs its bytes reference (blob_refs), and lg_blob_children what those blobs
 * reference in turn. No blob is ever read, so an unreadable blob
 * cannot be mistaken for one that references nothing; any error here aborts the collection
 * before anything is deleted.
 */
async function markLive(tx: RowWriteTransaction): Promise<LiveSet> {
  const roots = await tx.liveRoots();
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
  for (const json of roots.channelRefs) {
    const refs = JSON.parse(json) as Record<string, { r: ValueRef }>;
    for (const { r } of Object.values(refs)) reach(r);
  }
  for (const json of roots.valueRefs) reach(parseValueRef(json, "write value"));
  for (const column of roots.blobRefs)
    for (const id of parseBlobRefsColumn(column)) blobIds.add(id);
  while (frontier.length > 0) {
    const meta = await tx.itemMeta(frontier);
    frontier = [];
    for (const [id, item] of meta) {
      if (item.inBlobStore) blobIds.add(id);
      for (const blobId of item.blobRefs) blobIds.add(blobId);
      if (item.nodeBytes === undefined) continue;
      for (const child of childItemIds(decodeNode(id, item.nodeBytes))) {
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
    const children = await tx.blobChildren(blobFrontier);
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

/**
 * Two exclusive transactions, in this order so a crash between them only leaves orphan blobs:
 * 1. delete item rows nothing reaches (and commit);
 * 2. mark again, then delete blobs nothing live names. Blobs whose item rows step 1 removed go at
 *    once; every other blob (written by the serializer, or by a put that crashed or has not
 *    committed yet) only when older than `orphanGraceMs`, because a concurrent put may be about
 *    to reference it.
 * Blobs are deleted only inside an exclusive transaction, which is what lets a concurrent put
 * trust a blob it has seen (see LeanCheckpointSaver#commit).
 */
export async function collectGarbage(
  rows: RowStore,
  blobStore: BlobStore,
  orphanGraceMs: number,
): Promise<GcReport> {
  const swept = await rows.write(
    async (tx) => {
      const live = await markLive(tx);
      const dead = (await tx.allItems()).filter((item) => !live.items.has(item.id));
      await tx.deleteItems(dead.map((item) => item.id));
      return {
        items: dead.length,
        blobIds: dead.filter((item) => item.inBlobStore).map((item) => item.id),
      };
    },
    { exclusive: true },
  );
  const candidates = new Set(swept.blobIds);
  if (Number.isFinite(orphanGraceMs)) {
    const cutoffMs = Date.now() - orphanGraceMs;
    for await (const id of blobStore.list()) {
      if (candidates.has(id)) continue;
      const stat = await blobStore.stat(id);
      if (stat !== undefined && stat.writtenAtMs <= cutoffMs) candidates.add(id);
    }
  }
  if (candidates.size === 0) return { deletedItems: swept.items, deletedBlobs: 0 };
  const deletedBlobs = await rows.write(
    async (tx) => {
      const live = await markLive(tx);
      const dead = [...candidates].filter((id) => !live.blobIds.has(id));
      let deleted = 0;
      for (const id of dead) if (await blobStore.delete(id)) deleted += 1;
      await tx.deleteBlobChildren(dead);
      return deleted;
    },
    { exclusive: true },
  );
  return { deletedItems: swept.items, deletedBlobs };
}
