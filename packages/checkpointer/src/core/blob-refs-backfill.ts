import { isStagedSerializer, LeangraphError, plainIfItMatches, sha256Hex } from "@leangraph/serde";
import { decodeNode } from "../codec/tree-node.js";
import type { ItemKind, NewItem } from "../codec/value-codec.js";
import {
  channelRefsJson,
  itemRef,
  parseChannelRefs,
  parseValueRef,
  shapeOf,
  type ValueRef,
} from "../codec/value-ref.js";
import { CheckpointerErrorCode } from "../errors.js";
import type { MigrationContext } from "./migration-context.js";

/** Rows read per round: bounded memory on a database of any size. */
const pageRows = 500;

/** What the backfill reads and writes, page by page; each backend implements it in SQL. */
export interface BlobRefsBackfillAccess {
  /**
   * Items an older version found serializer references in (its `serde_refs` column was set).
   * The others hold none: that scan searched their bytes for the reference prefix.
   */
  itemsToScan(
    after: string,
    limit: number,
  ): Promise<{ id: string; kind: ItemKind; inBlobStore: boolean; body: Uint8Array | null }[]>;
  setItemBlobRefs(id: string, blobRefs: string | null): Promise<void>;
  /** True when some item had serializer references (the database was written with a RedactingSerializer). */
  anyItemToScan(): Promise<boolean>;
  checkpoints(
    after: unknown,
    limit: number,
  ): Promise<
    {
      key: unknown;
      checkpointType: string;
      checkpoint: Uint8Array;
      metadataType: string;
      metadata: Uint8Array;
      channelRefs: string;
    }[]
  >;
  updateCheckpoint(key: unknown, channelRefs: string, blobRefs: string | null): Promise<void>;
  /** Write rows and retained history rows: every row that holds one value ref. */
  valueRefRows(after: unknown, limit: number): Promise<{ key: unknown; valueRef: string }[]>;
  updateValueRef(key: unknown, valueRef: string): Promise<void>;
  insertItem(item: NewItem): Promise<void>;
}

function migrationFailed(message: string, cause?: unknown): LeangraphError {
  return new LeangraphError(CheckpointerErrorCode.migrationFailed, message, {
    cause,
    hint: "Nothing was changed. Restore the blob (or the blob store directory / LG_BLOB_DIR) and open the database again; `leangraph verify` names every damaged item.",
  });
}

/**
 * Records, for databases written before blob references were recorded, which serializer blobs
 * every item and checkpoint row needs, by asking the serializer about the bytes it wrote (it
 * follows references inside JSON blobs, reading them). Inline values that reference blobs become
 * items, so afterwards only items and checkpoint rows name blobs. A blob that cannot be read
 * fails the whole migration (its transaction rolls back): what it references cannot be known,
 * and guessing "nothing" would let gc delete live data.
 */
export async function backfillBlobRefs(
  access: BlobRefsBackfillAccess,
  context: MigrationContext,
): Promise<void> {
  const serde = context.serde;
  if (!isStagedSerializer(serde)) {
    if (await access.anyItemToScan()) {
      throw migrationFailed(
        "This database holds values written by a RedactingSerializer, but it was opened with a serializer that cannot read their blob references; open it with a RedactingSerializer sharing its blob store.",
      );
    }
    return;
  }
  const refsOf = async (type: string, bytes: Uint8Array, what: string) => {
    try {
      return await serde.referencedBlobIds(type, bytes);
    } catch (error) {
      throw migrationFailed(
        `Cannot record the blobs ${what} references: ${(error as Error).message}`,
        error,
      );
    }
  };
  for (let after = ""; ; ) {
    const items = await access.itemsToScan(after, pageRows);
    if (items.length === 0) break;
    for (const item of items) {
      const refs = await itemBlobRefs(item, context, refsOf);
      await access.setItemBlobRefs(item.id, refs.length > 0 ? JSON.stringify(refs) : null);
    }
    after = items[items.length - 1]!.id;
  }
  const inlineToItem = async (ref: ValueRef, what: string): Promise<ValueRef> => {
    const shape = shapeOf(ref);
    if (shape.kind !== "inline") return ref;
    const blobRefs = await refsOf(shape.type, shape.bytes, what);
    if (blobRefs.length === 0) return ref;
    const id = sha256Hex(shape.bytes);
    await access.insertItem({
      id,
      kind: "value",
      bytes: shape.bytes,
      inBlobStore: false,
      blobRefs,
    });
    return itemRef(shape.type, id);
  };
  for (let after: unknown; ; ) {
    const rows = await access.checkpoints(after, pageRows);
    if (rows.length === 0) break;
    for (const row of rows) {
      const what = `checkpoint row ${JSON.stringify(row.key)}`;
      const blobRefs = new Set([
        ...(await refsOf(row.checkpointType, row.checkpoint, what)),
        ...(await refsOf(row.metadataType, row.metadata, what)),
      ]);
      const channelRefs = parseChannelRefs(row.channelRefs, what);
      for (const entry of Object.values(channelRefs)) entry.r = await inlineToItem(entry.r, what);
      await access.updateCheckpoint(
        row.key,
        channelRefsJson(channelRefs),
        blobRefs.size > 0 ? JSON.stringify([...blobRefs]) : null,
      );
    }
    after = rows[rows.length - 1]!.key;
  }
  for (let after: unknown; ; ) {
    const rows = await access.valueRefRows(after, pageRows);
    if (rows.length === 0) break;
    for (const row of rows) {
      const where = `write row ${JSON.stringify(row.key)}`;
      const ref = parseValueRef(row.valueRef, where);
      const migrated = await inlineToItem(ref, where);
      if (migrated !== ref) await access.updateValueRef(row.key, JSON.stringify(migrated));
    }
    after = rows[rows.length - 1]!.key;
  }
}

async function itemBlobRefs(
  item: { id: string; kind: ItemKind; inBlobStore: boolean; body: Uint8Array | null },
  context: MigrationContext,
  refsOf: (type: string, bytes: Uint8Array, what: string) => Promise<string[]>,
): Promise<string[]> {
  const what = `item ${item.id}`;
  if (item.kind === "inner") return [];
  // A value body may be stored compressed (its id is the hash of the plain bytes).
  let bytes = item.body && (plainIfItMatches(item.body, item.id, what, sha256Hex) ?? item.body);
  if (item.inBlobStore || bytes === null) {
    try {
      bytes = await context.blobStore.get(item.id);
    } catch (error) {
      throw migrationFailed(
        `Cannot read ${what} from the blob store: ${(error as Error).message}`,
        error,
      );
    }
  }
  if (item.kind === "value") return refsOf("json", bytes, what);
  const node = decodeNode(item.id, bytes);
  if (node.kind !== "leaf") return [];
  const refs = new Set<string>();
  for (const entry of node.entries) {
    if (entry.kind !== "inline") continue;
    for (const id of await refsOf(entry.type, entry.bytes, what)) refs.add(id);
  }
  return [...refs];
}
