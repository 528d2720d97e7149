import type { BlobStore } from "@leangraph/serde";
import { childItemIds, decodeNode } from "../codec/tree-node.js";
import { parseValueRef, rootItemIds, type ValueRef } from "../codec/value-codec.js";
import type { RowStore, RowWriteTransaction } from "./row-store.js";

export interface GcReport {
  deletedItems: number;
  deletedBlobs: number;
}

/** Every item reachable from a checkpoint row or a write row, following tree nodes down. */
async function markLive(tx: RowWriteTransaction): Promise<Set<string>> {
  const { channelRefs, valueRefs } = await tx.allRefJson();
  const live = new Set<string>();
  let frontier: string[] = [];
  const reach = (ref: ValueRef) => {
    for (const id of rootItemIds(ref)) {
      if (!live.has(id)) {
        live.add(id);
        frontier.push(id);
      }
    }
  };
  for (const json of channelRefs) {
    const refs = JSON.parse(json) as Record<string, { r: ValueRef }>;
    for (const { r } of Object.values(refs)) reach(r);
  }
  for (const json of valueRefs) reach(parseValueRef(json, "write value"));
  while (frontier.length > 0) {
    const meta = await tx.itemMeta(frontier);
    frontier = [];
    for (const [id, item] of meta) {
      if (item.nodeBytes === undefined) continue;
      for (const child of childItemIds(decodeNode(id, item.nodeBytes))) {
        if (!live.has(child)) {
          live.add(child);
          frontier.push(child);
        }
      }
    }
  }
  return live;
}

/**
 * Two exclusive transactions, in this order so a crash between them only leaves orphan blobs:
 * 1. sweep item rows nothing reaches;
 * 2. delete blobs that no item row names: those whose rows step 1 removed, and strays older than
 *    `graceMs` (written by a put that crashed before committing, or by one still in flight).
 * Deleting inside an exclusive transaction is what lets a concurrent put trust a blob it saw.
 */
export async function collectGarbage(
  rows: RowStore,
  blobStore: BlobStore,
  graceMs: number,
): Promise<GcReport> {
  const swept = await rows.write(
    async (tx) => {
      const live = await markLive(tx);
      const dead = (await tx.allItems()).filter((item) => !live.has(item.id));
      await tx.deleteItems(dead.map((item) => item.id));
      return {
        items: dead.length,
        blobIds: dead.filter((item) => item.inBlobStore).map((item) => item.id),
      };
    },
    { exclusive: true },
  );
  const candidates = new Set(swept.blobIds);
  if (Number.isFinite(graceMs)) {
    const cutoffMs = Date.now() - graceMs;
    for await (const id of blobStore.list()) {
      if (candidates.has(id)) continue;
      const stat = await blobStore.stat(id);
      if (stat !== undefined && stat.writtenAtMs < cutoffMs) candidates.add(id);
    }
  }
  if (candidates.size === 0) return { deletedItems: swept.items, deletedBlobs: 0 };
  const deletedBlobs = await rows.write(
    async (tx) => {
      const named = await tx.itemMeta([...candidates]);
      let deleted = 0;
      for (const id of candidates) if (!named.has(id) && (await blobStore.delete(id))) deleted += 1;
      return deleted;
    },
    { exclusive: true },
  );
  return { deletedItems: swept.items, deletedBlobs };
}
