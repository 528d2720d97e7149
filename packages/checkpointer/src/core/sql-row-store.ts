import type { NewItem } from "../codec/value-codec.js";
import { configInvalidError } from "../errors.js";
import type { MigrationContext } from "./migration-context.js";
import {
  blobChildrenFromRows,
  blobRefsColumn,
  type CheckpointPlace,
  type CheckpointRecord,
  type CheckpointRow,
  checkpointRowFromRecord,
  type ItemMeta,
  type ListQuery,
  type LiveRoots,
  packBlobIds,
  parseBlobRefsColumn,
  type RetainedHistory,
  type RetainedRef,
  type RowStore,
  type RowStoreStats,
  type RowWriteTransaction,
  retainedHistoriesFromRows,
  retainedRefFromRecord,
  retainedRowsOf,
  type WriteRecord,
  type WriteRow,
  writesByCheckpoint,
} from "./row-store.js";

/*
 * The row store protocol over SQL, written once: which statements a read runs, which steps a
 * write transaction takes and in what order, and how rows come back. The two backends keep
 * apart only what really differs (langgraphjs savers split the same way: index / sql /
 * migrations): the statement text (sqlite/sql.ts, postgres/sql.ts), how a value binds, how a
 * transaction is begun and guarded, migrations, and space and size reports.
 */

/** One connection (SQLite's database, a Postgres pool or a transaction's client). */
export interface SqlConnection {
  /** Rows a query returns. */
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a statement; resolves how many rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** The connection a write transaction runs on. */
export interface SqlTransactionConnection extends SqlConnection {
  /** Undoes the open transaction; a failed rollback must not hide the error that caused it. */
  rollback(): Promise<void>;
}

/** The statements both backends run, by name; each dialect writes them in its own SQL. */
export interface RowStatements {
  itemBodies: string;
  checkpointById: string;
  latestCheckpoint: string;
  writesOf: string;
  existingItemIds: string;
  retainedHistory: string;
  threadIds: string;
  itemMeta: string;
  allChannelRefs: string;
  allRowBlobRefs: string;
  allValueRefs: string;
  allRetainedRefs: string;
  allItems: string;
  retainedRefsOfThread: string;
  blobChildren: string;
  upsertCheckpoint: string;
  insertWriteKeepFirst: string;
  insertWriteReplace: string;
  deleteThreadCheckpoints: string;
  deleteThreadWrites: string;
  deleteThreadRetained: string;
  checkpointPlaces: string;
  dropUnusedRetained: string;
  threadHasCheckpoints: string;
  copyThreadCheckpoints: string;
  copyThreadWrites: string;
  copyThreadRetained: string;
  deleteBlobChildren: string;
  deleteItems: string;
  /** Statements over many rows (see SqlDialect.batchesRows). Must report the ids it inserted. */
  insertItems: string;
  deleteCheckpoints: string;
  deleteCheckpointWrites: string;
  deleteRetainedChannels: string;
  insertRetained: string;
  insertBlobChildren: string;
}

/** What differs between the SQL backends besides the statements' text: how values bind. */
export interface SqlDialect {
  readonly statements: RowStatements;
  /** A list bound as one parameter: SQLite reads JSON text (json_each), Postgres an array. */
  list(values: readonly string[]): unknown;
  /** A boolean column's value (SQLite has none: 1 or 0). */
  flag(value: boolean): unknown;
  /** A byte column's value (node-postgres sends a Buffer as bytea, a bare Uint8Array as JSON). */
  bytes(value: Uint8Array): unknown;
  /**
   * How a statement over many rows runs. Postgres: once, each column bound as an array (unnest),
   * because every statement is a network round trip. SQLite: once per row, because a prepared
   * statement runs in process and costs no round trip.
   */
  readonly batchesRows: boolean;
}

/** A boolean column as either driver returns it (SQLite 0/1, Postgres true/false). */
function isSet(column: number | boolean): boolean {
  return column === true || column === 1;
}

/** Runs a statement over many rows, `leading` parameters first (see SqlDialect.batchesRows). */
async function runForRows(
  dialect: SqlDialect,
  connection: SqlConnection,
  sql: string,
  leading: readonly unknown[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  if (rows.length === 0) return;
  if (dialect.batchesRows) {
    await connection.run(sql, [...leading, ...columnsOf(rows)]);
    return;
  }
  for (const row of rows) await connection.run(sql, [...leading, ...row]);
}

function columnsOf(rows: readonly (readonly unknown[])[]): unknown[][] {
  return rows[0]!.map((_, column) => rows.map((row) => row[column]));
}

/** The reads every row store answers, over one connection (so a transaction's reads see its writes). */
export class SqlRowReads {
  constructor(
    protected readonly dialect: SqlDialect,
    protected readonly connection: SqlConnection,
  ) {}

  protected get sql(): RowStatements {
    return this.dialect.statements;
  }

  async itemBodies(ids: readonly string[]): Promise<Map<string, Uint8Array | null>> {
    const rows = await this.connection.query<{
      id: string;
      in_blob_store: number | boolean;
      body: Buffer | null;
    }>(this.sql.itemBodies, [this.dialect.list(ids)]);
    return new Map(
      rows.map((row) => [row.id, isSet(row.in_blob_store) ? null : (row.body ?? Buffer.alloc(0))]),
    );
  }

  async getCheckpoint(
    threadId: string,
    checkpointNs: string,
    checkpointId?: string,
  ): Promise<CheckpointRow | undefined> {
    const [record] =
      checkpointId === undefined
        ? await this.connection.query<CheckpointRecord>(this.sql.latestCheckpoint, [
            threadId,
            checkpointNs,
          ])
        : await this.connection.query<CheckpointRecord>(this.sql.checkpointById, [
            threadId,
            checkpointNs,
            checkpointId,
          ]);
    return record && checkpointRowFromRecord(record);
  }

  async getWrites(
    threadId: string,
    checkpointNs: string,
    checkpointIds: readonly string[],
  ): Promise<Map<string, WriteRow[]>> {
    const records = await this.connection.query<WriteRecord>(this.sql.writesOf, [
      threadId,
      checkpointNs,
      this.dialect.list(checkpointIds),
    ]);
    return writesByCheckpoint(records);
  }

  async existingItemIds(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.connection.query<{ id: string }>(this.sql.existingItemIds, [
      this.dialect.list(ids),
    ]);
    return new Set(rows.map((row) => row.id));
  }

  async retainedHistory(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
    channels: readonly string[],
  ): Promise<Map<string, RetainedHistory>> {
    const rows = await this.connection.query<{
      channel: string;
      seq: number;
      task_id: string;
      value_ref: string;
    }>(this.sql.retainedHistory, [
      threadId,
      checkpointNs,
      checkpointId,
      this.dialect.list(channels),
    ]);
    return retainedHistoriesFromRows(rows);
  }

  async threadIds(afterThreadId: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.connection.query<{ thread_id: string }>(this.sql.threadIds, [
      afterThreadId ?? "",
      limit,
    ]);
    return rows.map((row) => row.thread_id);
  }

  async itemMeta(ids: readonly string[]): Promise<Map<string, ItemMeta>> {
    const rows = await this.connection.query<{
      id: string;
      kind: NewItem["kind"];
      in_blob_store: number | boolean;
      node_body: Buffer | null;
      blob_refs: string | null;
    }>(this.sql.itemMeta, [this.dialect.list(ids)]);
    return new Map<string, ItemMeta>(
      rows.map((row) => [
        row.id,
        {
          kind: row.kind,
          inBlobStore: isSet(row.in_blob_store),
          nodeBytes: row.node_body ?? undefined,
          blobRefs: parseBlobRefsColumn(row.blob_refs),
        },
      ]),
    );
  }

  /** The rows that keep values alive (core/reachability.ts walks from them). */
  async liveRoots(): Promise<LiveRoots> {
    const column = async <K extends string>(sql: string, name: K) =>
      (await this.connection.query<Record<K, string>>(sql)).map((row) => row[name]);
    const channelRefs = await column(this.sql.allChannelRefs, "channel_refs");
    const blobRefs = await column(this.sql.allRowBlobRefs, "blob_refs");
    const valueRefs = await column(this.sql.allValueRefs, "value_ref");
    const retained = await column(this.sql.allRetainedRefs, "value_ref");
    return { channelRefs, blobRefs, valueRefs: [...valueRefs, ...retained] };
  }

  async allItems(): Promise<{ id: string; inBlobStore: boolean }[]> {
    const rows = await this.connection.query<{ id: string; in_blob_store: number | boolean }>(
      this.sql.allItems,
    );
    return rows.map((row) => ({ id: row.id, inBlobStore: isSet(row.in_blob_store) }));
  }

  async retainedRefs(threadId: string): Promise<RetainedRef[]> {
    const rows = await this.connection.query<Parameters<typeof retainedRefFromRecord>[0]>(
      this.sql.retainedRefsOfThread,
      [threadId],
    );
    return rows.map(retainedRefFromRecord);
  }

  async blobChildren(parentIds: readonly string[]): Promise<Map<string, string[]>> {
    const rows = await this.connection.query<{ parent_id: string; child_ids: Uint8Array }>(
      this.sql.blobChildren,
      [this.dialect.list(parentIds)],
    );
    return blobChildrenFromRows(rows);
  }
}

/**
 * The steps of a write transaction, over the transaction's connection. A plain object of
 * functions (not a class instance): decorators such as core/storage-errors.ts wrap each one.
 */
function writeTransactionOn(dialect: SqlDialect, connection: SqlConnection): RowWriteTransaction {
  const sql = dialect.statements;
  const reads = new SqlRowReads(dialect, connection);
  return {
    liveRoots: () => reads.liveRoots(),
    itemMeta: (ids) => reads.itemMeta(ids),
    blobChildren: (ids) => reads.blobChildren(ids),
    allItems: () => reads.allItems(),
    async insertItems(items: readonly NewItem[]): Promise<NewItem[]> {
      const rows = items.map((item) => [
        item.id,
        item.kind,
        dialect.flag(item.inBlobStore),
        item.bytes.byteLength,
        item.inBlobStore ? null : dialect.bytes(item.bytes),
        blobRefsColumn(item.blobRefs),
      ]);
      if (rows.length === 0) return [];
      const inserted = new Set<string>();
      if (dialect.batchesRows) {
        const returned = await connection.query<{ id: string }>(sql.insertItems, columnsOf(rows));
        for (const row of returned) inserted.add(row.id);
      } else {
        for (const row of rows)
          if ((await connection.run(sql.insertItems, row)) > 0) inserted.add(row[0] as string);
      }
      return items.filter((item) => inserted.has(item.id));
    },

    async missingItemIds(ids: readonly string[]): Promise<string[]> {
      const present = await reads.existingItemIds(ids);
      return ids.filter((id) => !present.has(id));
    },

    async upsertCheckpoint(row: CheckpointRow): Promise<void> {
      await connection.run(sql.upsertCheckpoint, [
        row.threadId,
        row.checkpointNs,
        row.checkpointId,
        row.parentCheckpointId ?? null,
        row.checkpointType,
        dialect.bytes(row.checkpoint),
        row.metadataType,
        dialect.bytes(row.metadata),
        row.channelRefs,
        row.createdAtMs ?? null,
        blobRefsColumn(row.blobRefs),
      ]);
    },

    async insertWrites(
      threadId: string,
      checkpointNs: string,
      checkpointId: string,
      rows: readonly WriteRow[],
    ): Promise<void> {
      // One statement per write: whether a conflict keeps or replaces depends on the row.
      for (const row of rows) {
        await connection.run(row.idx < 0 ? sql.insertWriteReplace : sql.insertWriteKeepFirst, [
          threadId,
          checkpointNs,
          checkpointId,
          row.taskId,
          row.idx,
          row.channel,
          row.taskPath,
          row.valueRef,
        ]);
      }
    },

    async deleteThread(threadId: string): Promise<void> {
      await connection.run(sql.deleteThreadCheckpoints, [threadId]);
      await connection.run(sql.deleteThreadWrites, [threadId]);
      await connection.run(sql.deleteThreadRetained, [threadId]);
    },

    async checkpointPlaces(threadId: string): Promise<CheckpointPlace[]> {
      const rows = await connection.query<{
        checkpoint_ns: string;
        checkpoint_id: string;
        parent_checkpoint_id: string | null;
        /** bigint in Postgres: pg returns it as a string. */
        created_at_ms: number | string | null;
      }>(sql.checkpointPlaces, [threadId]);
      return rows.map((row) => ({
        checkpointNs: row.checkpoint_ns,
        checkpointId: row.checkpoint_id,
        parentCheckpointId: row.parent_checkpoint_id ?? undefined,
        createdAtMs: row.created_at_ms === null ? undefined : Number(row.created_at_ms),
      }));
    },

    async deleteCheckpoints(
      threadId: string,
      checkpoints: readonly { checkpointNs: string; checkpointId: string }[],
    ): Promise<void> {
      const keys = checkpoints.map((checkpoint) => [
        checkpoint.checkpointNs,
        checkpoint.checkpointId,
      ]);
      await runForRows(dialect, connection, sql.deleteCheckpoints, [threadId], keys);
      await runForRows(dialect, connection, sql.deleteCheckpointWrites, [threadId], keys);
    },

    async dropUnusedRetained(threadId: string): Promise<void> {
      await connection.run(sql.dropUnusedRetained, [threadId]);
    },

    async putRetainedHistory(
      threadId: string,
      checkpointNs: string,
      checkpointId: string,
      histories: ReadonlyMap<string, RetainedHistory>,
    ): Promise<void> {
      const place = [threadId, checkpointNs, checkpointId];
      await runForRows(
        dialect,
        connection,
        sql.deleteRetainedChannels,
        place,
        [...histories.keys()].map((channel) => [channel]),
      );
      const rows = [...histories].flatMap(([channel, history]) =>
        retainedRowsOf(history).map((row) => [channel, row.seq, row.taskId, row.valueRef]),
      );
      await runForRows(dialect, connection, sql.insertRetained, place, rows);
    },

    async copyThread(fromThreadId: string, toThreadId: string): Promise<void> {
      if ((await connection.query(sql.threadHasCheckpoints, [toThreadId])).length > 0) {
        throw configInvalidError(
          `copyThread target "${toThreadId}" already has checkpoints; delete it first.`,
        );
      }
      await connection.run(sql.copyThreadCheckpoints, [toThreadId, fromThreadId]);
      await connection.run(sql.copyThreadWrites, [toThreadId, fromThreadId]);
      await connection.run(sql.copyThreadRetained, [toThreadId, fromThreadId]);
    },

    async insertBlobChildren(children: ReadonlyMap<string, readonly string[]>): Promise<void> {
      const rows = [...children].map(([parent, childIds]) => [
        parent,
        dialect.bytes(packBlobIds(childIds)),
      ]);
      await runForRows(dialect, connection, sql.insertBlobChildren, [], rows);
    },

    async deleteBlobChildren(parentIds: readonly string[]): Promise<void> {
      if (parentIds.length > 0)
        await connection.run(sql.deleteBlobChildren, [dialect.list(parentIds)]);
    },

    async deleteItems(ids: readonly string[]): Promise<void> {
      if (ids.length > 0) await connection.run(sql.deleteItems, [dialect.list(ids)]);
    },
  };
}

/**
 * `begin` (which takes whatever lock the backend needs), the work over the transaction's steps,
 * COMMIT; on any error a rollback, and the work's error goes to the caller.
 */
export async function inWriteTransaction<T>(
  dialect: SqlDialect,
  connection: SqlTransactionConnection,
  begin: string,
  work: (tx: RowWriteTransaction) => Promise<T>,
): Promise<T> {
  await connection.run(begin);
  try {
    const result = await work(writeTransactionOn(dialect, connection));
    await connection.run("COMMIT");
    return result;
  } catch (error) {
    await connection.rollback();
    throw error;
  }
}

/**
 * A SQL row store: the reads and the write protocol from here; a backend adds how it migrates,
 * lists (its placeholders and JSON operators differ), guards and begins a write transaction,
 * reclaims space, and measures itself.
 */
export abstract class SqlRowStore extends SqlRowReads implements RowStore {
  abstract migrate(context: MigrationContext): Promise<void>;
  abstract listCheckpoints(query: ListQuery): Promise<CheckpointRow[]>;
  abstract write<T>(
    work: (tx: RowWriteTransaction) => Promise<T>,
    options?: { exclusive?: boolean },
  ): Promise<T>;
  abstract reclaimSpace(): Promise<void>;
  abstract stats(): Promise<RowStoreStats>;
  abstract close(): Promise<void>;
}
