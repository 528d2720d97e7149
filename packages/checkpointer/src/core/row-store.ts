import type { NewItem } from "../codec/value-codec.js";

/**
 * The storage contract the lean saver logic is written against; `src/sqlite` and `src/postgres`
 * each implement it. Rows hold small JSON and ids only; payloads are items (content-addressed
 * rows) or blobs.
 */
export interface CheckpointRow {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
  parentCheckpointId: string | undefined;
  checkpointType: string;
  /** The serialized checkpoint without `channel_values`. */
  checkpoint: Uint8Array;
  metadataType: string;
  metadata: Uint8Array;
  /** JSON `{ [channel]: { v: version, r: ValueRef } }`. */
  channelRefs: string;
}

/** A checkpoint row as both backends' drivers return it (same column names in SQLite and Postgres). */
export interface CheckpointRecord {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  checkpoint_type: string;
  checkpoint: Buffer;
  metadata_type: string;
  metadata: Buffer;
  channel_refs: string;
}

export function checkpointRowFromRecord(record: CheckpointRecord): CheckpointRow {
  return {
    threadId: record.thread_id,
    checkpointNs: record.checkpoint_ns,
    checkpointId: record.checkpoint_id,
    parentCheckpointId: record.parent_checkpoint_id ?? undefined,
    checkpointType: record.checkpoint_type,
    checkpoint: record.checkpoint,
    metadataType: record.metadata_type,
    metadata: record.metadata,
    channelRefs: record.channel_refs,
  };
}

export interface WriteRow {
  taskId: string;
  idx: number;
  channel: string;
  taskPath: string;
  /** JSON ValueRef. */
  valueRef: string;
}

export interface ListQuery {
  threadId?: string | undefined;
  checkpointNs?: string | undefined;
  checkpointId?: string | undefined;
  beforeCheckpointId?: string | undefined;
  /** Only when no metadata filter applies (the filter runs after decoding, in the saver). */
  limit?: number | undefined;
}

export function serdeRefsColumn(item: NewItem): string | null {
  return item.serdeRefs.length > 0 ? JSON.stringify(item.serdeRefs) : null;
}

export function parseSerdeRefsColumn(column: string | null): string[] {
  return column === null ? [] : (JSON.parse(column) as string[]);
}

/** A list query as column conditions, shared by the SQL backends (values are always bound). */
export function listConditions(
  query: ListQuery,
): { column: string; operator: "=" | "<"; value: string }[] {
  const conditions: { column: string; operator: "=" | "<"; value: string }[] = [];
  if (query.threadId !== undefined)
    conditions.push({ column: "thread_id", operator: "=", value: query.threadId });
  if (query.checkpointNs !== undefined) {
    conditions.push({ column: "checkpoint_ns", operator: "=", value: query.checkpointNs });
  }
  if (query.checkpointId !== undefined) {
    conditions.push({ column: "checkpoint_id", operator: "=", value: query.checkpointId });
  }
  if (query.beforeCheckpointId !== undefined) {
    conditions.push({ column: "checkpoint_id", operator: "<", value: query.beforeCheckpointId });
  }
  return conditions;
}

/** `LIMIT n` for a validated whole number (interpolated, so never anything else). */
export function limitClause(limit: number | undefined): string {
  return limit !== undefined && Number.isInteger(limit) ? ` LIMIT ${Math.max(0, limit)}` : "";
}

export interface ItemMeta {
  kind: NewItem["kind"];
  inBlobStore: boolean;
  /** Present for tree nodes (always stored in the database), absent for value items. */
  nodeBytes: Uint8Array | undefined;
  /** Serde blob references inside the item's bytes. */
  serdeRefs: string[];
}

export interface RowStoreStats {
  dbBytes: number;
  checkpointCount: number;
  largestCheckpointRowBytes: number;
}

export interface RowWriteTransaction {
  /** Inserts items that are not stored yet; resolves the ones this call actually inserted. */
  insertItems(items: readonly NewItem[]): Promise<NewItem[]>;
  missingItemIds(ids: readonly string[]): Promise<string[]>;
  upsertCheckpoint(row: CheckpointRow): Promise<void>;
  /** Regular writes (idx >= 0) keep the first value stored; special writes (idx < 0) replace. */
  insertWrites(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
    rows: readonly WriteRow[],
  ): Promise<void>;
  deleteThread(threadId: string): Promise<void>;
  /** Deletes all but the newest `keepLast` checkpoints (and their writes) per namespace. */
  pruneThread(threadId: string, keepLast: number): Promise<number>;
  copyThread(fromThreadId: string, toThreadId: string): Promise<void>;
  /** Every row's channel_refs and every write's value_ref JSON: the roots of mark-and-sweep. */
  allRefJson(): Promise<{ channelRefs: string[]; valueRefs: string[] }>;
  itemMeta(ids: readonly string[]): Promise<Map<string, ItemMeta>>;
  allItems(): Promise<{ id: string; inBlobStore: boolean }[]>;
  deleteItems(ids: readonly string[]): Promise<void>;
}

export interface RowStore {
  /** Stored bodies by id; `null` marks an item whose bytes live in the blob store. */
  itemBodies(ids: readonly string[]): Promise<Map<string, Uint8Array | null>>;
  getCheckpoint(
    threadId: string,
    checkpointNs: string,
    checkpointId?: string,
  ): Promise<CheckpointRow | undefined>;
  /** Newest first (checkpoint ids are time-ordered uuid6). */
  listCheckpoints(query: ListQuery): Promise<CheckpointRow[]>;
  getWrites(threadId: string, checkpointNs: string, checkpointId: string): Promise<WriteRow[]>;
  existingItemIds(ids: readonly string[]): Promise<Set<string>>;
  /**
   * Runs `work` in one write transaction. `exclusive` transactions (lifecycle: delete, prune, gc)
   * exclude every other write, which is what makes deleting a blob safe against a concurrent put
   * that is about to reference it.
   */
  write<T>(
    work: (tx: RowWriteTransaction) => Promise<T>,
    options?: { exclusive?: boolean },
  ): Promise<T>;
  stats(): Promise<RowStoreStats>;
  close(): Promise<void>;
}
