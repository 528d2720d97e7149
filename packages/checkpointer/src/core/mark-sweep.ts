import type { BlobStore } from "@leangraph/serde";
import { blobIdOfRef, isContainerRef, serdeRefsIn, serdeRefsInBlob } from "../codec/serde-refs.js";
import { childItemIds, decodeNode } from "../codec/tree-node.js";
import { parseValueRef, rootItemIds, type ValueRef } from "../codec/value-codec.js";
import type { RowStore, RowWriteTransaction } from "./row-store.js";

export interface GcReport {
  deletedItems: number;
  deletedBlobs: number;
}

interface LiveSet {
  items: Set<string>;
  /** Blobs a RedactingSerializer referenced from inside live payloads (no item row of their own). */
  serdeBlobIds: Set<string>;
}

/**
 * Everything reachable from a checkpoint row or a write row: items (following tree nodes down)
 * and the serializer's blobs referenced from inside live payloads (following container blobs,
 * which may reference further blobs).
 */
async function markLive(tx: RowWriteTransaction, blobStore: BlobStore): Promise<LiveSet> {
  const { channelRefs, valueRefs } = await tx.allRefJson();
  const items = new Set<string>();
  const serdeRefs = new Set<string>();
  const containers: string[] = [];
  let frontier: string[] = [];
  const reachSerde = (refs: readonly string[]) => {
    for (const ref of refs) {
      if (serdeRefs.has(ref)) continue;
      serdeRefs.add(ref);
      if (isContainerRef(ref)) containers.push(ref);
    }
  };
  const reach = (ref: ValueRef) => {
    if ("s" in ref) reachSerde(serdeRefsIn(ref.s));
    if ("b" in ref) reachSerde(serdeRefsIn(Buffer.from(ref.b, "base64")));
    for (const id of rootItemIds(ref)) {
      if (!items.has(id)) {
        items.add(id);
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
      reachSerde(item.serdeRefs);
      if (item.nodeBytes === undefined) continue;
      for (const child of childItemIds(decodeNode(id, item.nodeBytes))) {
        if (!items.has(child)) {
          items.add(child);
          frontier.push(child);
        }
      }
    }
  }
  while (containers.length > 0) {
    const ref = containers.pop()!;
    // A missing container cannot keep anything alive; its absence is getTuple's error to report.
    const inner = await serdeRefsInBlob(blobStore, blobIdOfRef(ref)).catch(() => []);
    reachSerde(inner);
  }
  return { items, serdeBlobIds: new Set([...serdeRefs].map(blobIdOfRef)) };
}

/**
 * Two exclusive transactions, in this order so a crash between them only leaves orphan blobs:
 * 1. delete item rows nothing reaches (and commit);
 * 2. mark again, then delete blobs that nothing names: no item row and no live payload reference.
 *    Blobs whose item rows step 1 removed go at once; blobs that never had an item row (written by
 *    the serializer, or by a put that crashed or has not committed yet) only when older than
 *    `orphanGraceMs`, because a concurrent put may be about to reference them.
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
      const live = await markLive(tx, blobStore);
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
      const live = await markLive(tx, blobStore);
      const named = await tx.itemMeta([...candidates]);
      let deleted = 0;
      for (const id of candidates) {
        if (named.has(id) || live.serdeBlobIds.has(id)) continue;
        if (await blobStore.delete(id)) deleted += 1;
      }
      return deleted;
    },
    { exclusive: true },
  );
  return { deletedItems: swept.items, deletedBlobs };
}
