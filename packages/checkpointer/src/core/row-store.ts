import { compareWritesSortKeys, writesSortKey } from "@langchain/langgraph-checkpoint";
import type { NewItem } from "../codec/value-codec.js";
import type { MigrationContext } from "./migration-context.js";

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
  /** The checkpoint's own `ts` in ms (what age-based retention measures); undefined when unknown. */
  createdAtMs: number | undefined;
  /** Blobs the serialized checkpoint or metadata reference (the serializer's, see blobRefsColumn). */
  blobRefs: readonly string[];
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
  /** bigint in Postgres: pg returns it as a string. */
  created_at_ms: number | string | null;
  blob_refs: string | null;
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
    createdAtMs: record.created_at_ms === null ? undefined : Number(record.created_at_ms),
    blobRefs: parseBlobRefsColumn(record.blob_refs),
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

/** An lg_writes row as both databases return it. */
export interface WriteRecord {
  checkpoint_id: string;
  task_id: string;
  idx: number;
  channel: string;
  task_path: string;
  value_ref: string;
}

/** Write rows grouped by the checkpoint they belong to. */
export function writesByCheckpoint(records: readonly WriteRecord[]): Map<string, WriteRow[]> {
  const byCheckpoint = new Map<string, WriteRow[]>();
  for (const record of records) {
    let writes = byCheckpoint.get(record.checkpoint_id);
    if (writes === undefined) {
      writes = [];
      byCheckpoint.set(record.checkpoint_id, writes);
    }
    writes.push({
      taskId: record.task_id,
      idx: record.idx,
      channel: record.channel,
      taskPath: record.task_path,
      valueRef: record.value_ref,
    });
  }
  return byCheckpoint;
}

/** Pending writes of one checkpoint. */
export async function writesOf(
  rows: Pick<RowStore, "getWrites">,
  threadId: string,
  checkpointNs: string,
  checkpointId: string,
): Promise<WriteRow[]> {
  return (await rows.getWrites(threadId, checkpointNs, [checkpointId])).get(checkpointId) ?? [];
}

/** LangGraph's own order of a checkpoint's writes (task path, task id, index). */
export function sortWrites(rows: readonly WriteRow[]): WriteRow[] {
  return rows
    .map((row) => ({ row, key: writesSortKey(row.taskPath, row.taskId, row.idx) }))
    .sort((a, b) => compareWritesSortKeys(a.key, b.key))
    .map(({ row }) => row);
}

export interface ListQuery {
  threadId?: string | undefined;
  checkpointNs?: string | undefined;
  checkpointId?: string | undefined;
  beforeCheckpointId?: string | undefined;
  /**
   * Metadata keys that must equal these JSON scalars, evaluated in the database on JSON metadata.
   * A pre-filter: rows it cannot judge (metadata that is not JSON, or that references blobs, so a
   * value may stand outside it) are kept, and the saver checks every row it returns.
   */
  metadataEquals?: readonly MetadataEquals[] | undefined;
  /** Only when no metadata filter applies (the saver's own check may drop rows after the query). */
  limit?: number | undefined;
}

export interface MetadataEquals {
  key: string;
  /** The value as JSON text (`"input"`, `3`, `true`, `null`). */
  json: string;
}

/** A metadata filter value the database can compare (as MemorySaver does, with ===). */
export function isJsonScalar(value: unknown): value is string | number | boolean | null {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/**
 * The `blob_refs` column of items and checkpoint rows: the blob ids the serializer said the bytes
 * reference (a JSON array), NULL for none. Mark-and-sweep reads liveness from it alone.
 */
export function blobRefsColumn(blobRefs: readonly string[]): string | null {
  return blobRefs.length > 0 ? JSON.stringify(blobRefs) : null;
}

/** A blob's children as lg_blob_children stores them: 32-byte ids, concatenated. */
export function packBlobIds(ids: readonly string[]): Buffer {
  return Buffer.concat(ids.map((id) => Buffer.from(id, "hex")));
}

/** Rows of (parent_id, child_ids) as a map from parent to children. */
export function blobChildrenFromRows(
  rows: readonly { parent_id: string; child_ids: Uint8Array }[],
): Map<string, string[]> {
  const children = new Map<string, string[]>();
  for (const row of rows) {
    const packed = Buffer.from(row.child_ids);
    const ids: string[] = [];
    for (let offset = 0; offset + 32 <= packed.byteLength; offset += 32)
      ids.push(packed.toString("hex", offset, offset + 32));
    children.set(row.parent_id, ids);
  }
  return children;
}

export function parseBlobRefsColumn(column: string | null): string[] {
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
  /** Blobs the item's bytes reference (the serializer's). */
  blobRefs: string[];
}

export interface RowStoreStats {
  dbBytes: number;
  checkpointCount: number;
  largestCheckpointRowBytes: number;
}

/** Where a checkpoint sits in its thread: what retention plans with (no payloads). */
export interface CheckpointPlace {
  checkpointNs: string;
  checkpointId: string;
  parentCheckpointId: string | undefined;
  createdAtMs: number | undefined;
}

/**
 * The part of a delta channel's history that a prune deleted, kept for the oldest checkpoint that
 * remains (see core/read/delta-history.ts): the channel's value where the walk stopped, if it found
 * one, and the writes between that value and the checkpoint, oldest first.
 */
export interface RetainedHistory {
  /** JSON ValueRef of the seed value. */
  seedRef: string | undefined;
  writes: { taskId: string; valueRef: string }[];
}

/** Seq of the seed row in lg_retained_history; writes are numbered from 0, oldest first. */
const seedSeq = -1;

/** A retained history as table rows (both backends store it the same way). */
export function retainedRowsOf(
  history: RetainedHistory,
): { seq: number; taskId: string; valueRef: string }[] {
  const rows = history.writes.map((write, seq) => ({ seq, ...write }));
  if (history.seedRef !== undefined)
    rows.unshift({ seq: seedSeq, taskId: "", valueRef: history.seedRef });
  return rows;
}

/** Table rows (ordered by channel, seq) back into histories by channel. */
export function retainedHistoriesFromRows(
  rows: readonly { channel: string; seq: number; task_id: string; value_ref: string }[],
): Map<string, RetainedHistory> {
  const histories = new Map<string, RetainedHistory>();
  for (const row of rows) {
    let history = histories.get(row.channel);
    if (history === undefined) {
      history = { seedRef: undefined, writes: [] };
      histories.set(row.channel, history);
    }
    if (row.seq === seedSeq) history.seedRef = row.value_ref;
    else history.writes.push({ taskId: row.task_id, valueRef: row.value_ref });
  }
  return histories;
}

/** One row of a thread's retained history, where it is kept (under a deleted parent checkpoint). */
export interface RetainedRef {
  checkpointNs: string;
  /** The deleted parent checkpoint the history is kept under. */
  checkpointId: string;
  channel: string;
  /** -1 for the seed value, then the writes from 0, oldest first. */
  seq: number;
  /** JSON ValueRef. */
  valueRef: string;
}

export function retainedRefFromRecord(record: {
  checkpoint_ns: string;
  checkpoint_id: string;
  channel: string;
  seq: number;
  value_ref: string;
}): RetainedRef {
  return {
    checkpointNs: record.checkpoint_ns,
    checkpointId: record.checkpoint_id,
    channel: record.channel,
    seq: record.seq,
    valueRef: record.value_ref,
  };
}

/**
 * The roots of liveness as the rows hold them: every checkpoint row's channel refs and blob refs,
 * and every pending write's and retained history row's value ref (see core/reachability.ts).
 */
export interface LiveRoots {
  channelRefs: string[];
  valueRefs: string[];
  blobRefs: string[];
}

/** What a liveness walk reads; the row store and a write transaction both answer it. */
export interface ReachabilityRows {
  liveRoots(): Promise<LiveRoots>;
  itemMeta(ids: readonly string[]): Promise<Map<string, ItemMeta>>;
  blobChildren(parentIds: readonly string[]): Promise<Map<string, string[]>>;
  allItems(): Promise<{ id: string; inBlobStore: boolean }[]>;
}

export interface RowWriteTransaction extends ReachabilityRows {
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
  /** Removes every checkpoint, write and retained history row of the thread. */
  deleteThread(threadId: string): Promise<void>;
  /** Every checkpoint of the thread, all namespaces, without payloads. */
  checkpointPlaces(threadId: string): Promise<CheckpointPlace[]>;
  /** Deletes these checkpoints with their writes (retained history stays: see dropUnusedRetained). */
  deleteCheckpoints(
    threadId: string,
    checkpoints: readonly { checkpointNs: string; checkpointId: string }[],
  ): Promise<void>;
  /** Removes retained history that no remaining checkpoint of the thread has as its parent. */
  dropUnusedRetained(threadId: string): Promise<void>;
  /** Replaces the retained history of these channels under one (deleted) checkpoint id. */
  putRetainedHistory(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
    histories: ReadonlyMap<string, RetainedHistory>,
  ): Promise<void>;
  /** Copies checkpoints, writes and retained history; the target must hold no checkpoints. */
  copyThread(fromThreadId: string, toThreadId: string): Promise<void>;
  /** Records which blobs a blob names (idempotent: a fact about content). */
  insertBlobChildren(children: ReadonlyMap<string, readonly string[]>): Promise<void>;
  /** Forgets what deleted blobs named. */
  deleteBlobChildren(parentIds: readonly string[]): Promise<void>;
  deleteItems(ids: readonly string[]): Promise<void>;
}

export interface RowStore extends ReachabilityRows {
  /** Runs pending migrations; idempotent and safe when several processes start at once. */
  migrate(context: MigrationContext): Promise<void>;
  /** Stored bodies by id; `null` marks an item whose bytes live in the blob store. */
  itemBodies(ids: readonly string[]): Promise<Map<string, Uint8Array | null>>;
  getCheckpoint(
    threadId: string,
    checkpointNs: string,
    checkpointId?: string,
  ): Promise<CheckpointRow | undefined>;
  /** Newest first (checkpoint ids are time-ordered uuid6). */
  listCheckpoints(query: ListQuery): Promise<CheckpointRow[]>;
  /**
   * Pending writes of these checkpoints (one thread and namespace), by checkpoint id; a
   * checkpoint without writes has no entry. One query for a page of `list()`, not one per row.
   */
  getWrites(
    threadId: string,
    checkpointNs: string,
    checkpointIds: readonly string[],
  ): Promise<Map<string, WriteRow[]>>;
  /** Retained history of the requested channels at one checkpoint (absent channels: none). */
  retainedHistory(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
    channels: readonly string[],
  ): Promise<Map<string, RetainedHistory>>;
  /** Every retained history row of a thread (read-only tools: verify, storage accounting). */
  retainedRefs(threadId: string): Promise<RetainedRef[]>;
  /** Thread ids in ascending order, after `afterThreadId`, at most `limit`. */
  threadIds(afterThreadId: string | undefined, limit: number): Promise<string[]>;
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
  /** Gives freed space back after lifecycle deletes (SQLite: the file shrinks). */
  reclaimSpace(): Promise<void>;
  stats(): Promise<RowStoreStats>;
  close(): Promise<void>;
}
