import type { BlobStore } from "@leangraph/serde";
import { isCollectable, markLive, storedBlobs, unreachedItems } from "../reachability.js";
import type { RowStore } from "../row-store.js";

export interface GcReport {
  deletedItems: number;
  deletedBlobs: number;
}

/**
 * The sweep (what is alive is decided in core/reachability.ts). Two exclusive transactions, in
 * this order so a crash between them only leaves orphan blobs:
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
      const dead = await unreachedItems(tx, await markLive(tx));
      await tx.deleteItems(dead.map((item) => item.id));
      return {
        items: dead.length,
        blobIds: dead.filter((item) => item.inBlobStore).map((item) => item.id),
      };
    },
    { exclusive: true },
  );
  const bodiesOfDeadItems = new Set(swept.blobIds);
  // The cutoff is taken before listing, so a blob written while the list runs is never old enough.
  const cutoffMs = Number.isFinite(orphanGraceMs)
    ? Date.now() - orphanGraceMs
    : Number.NEGATIVE_INFINITY;
  const ages = new Map<string, number>();
  if (Number.isFinite(orphanGraceMs)) {
    for await (const blob of storedBlobs(blobStore))
      if (blob.writtenAtMs <= cutoffMs) ages.set(blob.id, blob.writtenAtMs);
  }
  const candidates = new Set([...bodiesOfDeadItems, ...ages.keys()]);
  if (candidates.size === 0) return { deletedItems: swept.items, deletedBlobs: 0 };
  const deletedBlobs = await rows.write(
    async (tx) => {
      const live = await markLive(tx);
      const dead = [...candidates].filter((id) =>
        isCollectable(id, ages.get(id), live, bodiesOfDeadItems, cutoffMs),
      );
      let deleted = 0;
      for (const id of dead) if (await blobStore.delete(id)) deleted += 1;
      await tx.deleteBlobChildren(dead);
      return deleted;
    },
    { exclusive: true },
  );
  return { deletedItems: swept.items, deletedBlobs };
}
