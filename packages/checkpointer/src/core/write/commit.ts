import {
  type BlobStore,
  type BodyCompression,
  blobClosureOf,
  encodeBody,
  type PreparedPayload,
  SerdeErrorCode,
  type StagedSerializer,
} from "@leangraph/serde";
import type { EncodedValue, NewItem } from "../../codec/value-codec.js";
import type { ItemCache } from "../read/item-cache.js";
import type { RowStore, RowWriteTransaction } from "../row-store.js";
import { KeyedMutex } from "./mutex.js";

/** What a put planned (no I/O yet): its encoded values and the row's own serialized payloads. */
export interface CommitPlan {
  encodes: readonly EncodedValue[];
  /** The serialized checkpoint skeleton and metadata: their blobs are written like the values'. */
  rowPayloads: readonly PreparedPayload[];
  /** Root items of values inherited from the parent row: they must still exist at commit. */
  inheritedRootIds: readonly string[];
}

/** What a commit stored: the items it planned and those its transaction found new. */
export interface CommitOutcome {
  plannedItems: number;
  insertedItems: NewItem[];
}

/** Thrown inside a write transaction when reused items were swept meanwhile; the put re-encodes. */
export class StaleEncodeError extends Error {}

/**
 * The commit protocol of a put or putWrites: crash ordering lives here, and only here. The plan is
 * made first, with no side effect; then the serializer's blobs and the saver's large items are
 * written durably; then one transaction inserts items and the row. A refused put writes nothing,
 * and a crash at any point leaves the old state or the new one, plus at worst unreferenced blobs
 * that `gc()` reclaims.
 *
 * Inside the transaction, every blob this put wrote is checked to still exist: lifecycle
 * operations delete blobs only inside an exclusive transaction and only when no row names them,
 * so a blob seen here cannot vanish before this commit, and one a concurrent gc deleted just
 * before is written again (its content is still in hand).
 *
 * Commits of one thread take turns in this process. LangGraph puts a task's writes and the
 * next checkpoint concurrently, and both hold the step's new values: in turns, the second finds
 * the first's items stored and skips their blobs, instead of both writing (and then verifying)
 * the same 200 KB blob at once, and both extending the same tables (Postgres then grows a
 * table by 20 pages per waiting backend).
 */
export class PutCommitter {
  readonly #threadCommits = new KeyedMutex();

  constructor(
    private readonly rows: RowStore,
    private readonly blobStore: BlobStore,
    /** The serde when it stages its blob writes (RedactingSerializer); then every blob is known. */
    private readonly stagedSerde: StagedSerializer | undefined,
    private readonly itemCache: ItemCache,
    /** How value bodies kept in the database are stored; undefined stores them plain. */
    private readonly compression: BodyCompression | undefined,
  ) {}

  commit(
    threadId: string,
    plan: CommitPlan,
    writeRow: (tx: RowWriteTransaction) => Promise<void>,
  ): Promise<CommitOutcome> {
    return this.#threadCommits.run(threadId, () => this.#commitInTurn(plan, writeRow));
  }

  async #commitInTurn(
    plan: CommitPlan,
    writeRow: (tx: RowWriteTransaction) => Promise<void>,
  ): Promise<CommitOutcome> {
    const items = new Map<string, NewItem>();
    const reused = new Set<string>(plan.inheritedRootIds);
    const serdePayloads = [...plan.rowPayloads];
    for (const encoded of plan.encodes) {
      for (const item of encoded.items) items.set(item.id, item);
      for (const id of encoded.reusedItemIds) reused.add(id);
      serdePayloads.push(...encoded.toWrite);
    }
    for (const id of items.keys()) reused.delete(id);
    const serdeBlobIds = new Set(serdePayloads.flatMap(blobClosureOf));
    const blobChildren = new Map<string, readonly string[]>();
    for (const payload of serdePayloads)
      for (const [parent, children] of payload.blobChildren) blobChildren.set(parent, children);
    const writeSerdeBlobs = () => this.stagedSerde!.writeBlobs(serdePayloads);
    if (serdeBlobIds.size > 0) await writeSerdeBlobs();
    const blobItems = [...items.values()].filter((item) => item.inBlobStore);
    if (blobItems.length > 0) {
      const known = await this.rows.existingItemIds(blobItems.map((item) => item.id));
      for (const item of blobItems)
        if (!known.has(item.id)) await putOutsideLock(this.blobStore, item.bytes);
    }
    const stored = [...items.values()].map((item) => this.#storedForm(item));
    let inserted: NewItem[] = [];
    await this.rows.write(async (tx) => {
      inserted = (await tx.insertItems(stored)).map((item) => items.get(item.id)!);
      for (const item of inserted) {
        if (item.inBlobStore && !(await this.blobStore.has(item.id)))
          await this.blobStore.put(item.bytes);
      }
      for (const id of serdeBlobIds) {
        if (await this.blobStore.has(id)) continue;
        await writeSerdeBlobs();
        break;
      }
      if (reused.size > 0 && (await tx.missingItemIds([...reused])).length > 0)
        throw new StaleEncodeError();
      if (blobChildren.size > 0) await tx.insertBlobChildren(blobChildren);
      await writeRow(tx);
    });
    for (const item of items.values())
      if (!item.inBlobStore) this.itemCache.add(item.id, item.bytes);
    return { plannedItems: items.size, insertedItems: inserted };
  }

  /**
   * The row form of an item: a value body or a tree leaf kept in the database is compressed (its
   * id stays the hash of the plain bytes; the item reader decompresses before checking it, and
   * decodeNode reads either form). Leaves are compressed because an append rewrites the open tail
   * leaf of an array in every checkpoint: with inline elements (the demo's per-module results)
   * those copies were a third of the bytes on disk. They use the codec's fastest level, since
   * nearly every put writes one. Inner nodes stay plain: 32-byte hashes do not shrink.
   */
  #storedForm(item: NewItem): NewItem {
    // Compression off still goes through encodeBody: a body that starts like a header gets one
    // (codec none). Under encryption no one re-hashes a body, so its header alone must tell.
    if (item.inBlobStore || item.kind === "inner") return item;
    const compression = this.compression && {
      ...this.compression,
      level: item.kind === "leaf" ? this.compression.leafLevel : this.compression.rowLevel,
    };
    const bytes = encodeBody(item.bytes, compression);
    return bytes === item.bytes ? item : { ...item, bytes };
  }
}

/**
 * Outside the write lock, a gc in another process may delete an orphan blob (same content,
 * written by someone who has not committed yet) while the store is verifying it, which a store
 * can report as a failed write. The content is still in hand, so trying again is always right;
 * the in-transaction check in the commit is what guarantees the blob exists at commit.
 */
async function putOutsideLock(blobStore: BlobStore, bytes: Uint8Array): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await blobStore.put(bytes);
      return;
    } catch (error) {
      if (attempt >= 3 || (error as { code?: string }).code !== SerdeErrorCode.blobWriteFailed)
        throw error;
    }
  }
}
