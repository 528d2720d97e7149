import { LeangraphError } from "@leangraph/serde";
import type pg from "pg";
import type { NewItem } from "../codec/value-codec.js";
import type { MigrationContext } from "../core/migration-context.js";
import {
  blobChildrenFromRows,
  blobRefsColumn,
  type CheckpointRecord,
  type CheckpointRow,
  checkpointRowFromRecord,
  type ItemMeta,
  type ListQuery,
  type LiveRoots,
  limitClause,
  listConditions,
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
} from "../core/row-store.js";
import { AsyncSemaphore } from "../core/write/mutex.js";
import { CheckpointerErrorCode, configInvalidError } from "../errors.js";
import { postgresMigrations } from "./migrations.js";
import { type PostgresSql, postgresSql } from "./sql.js";

const savedTables = [
  "lg_blob_children",
  "lg_migrations",
  "lg_checkpoints",
  "lg_writes",
  "lg_items",
  "lg_retained_history",
];

/** Runs `work` inside BEGIN/COMMIT on one pooled client; ROLLBACK on error; release always. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}

export class PostgresRowStore implements RowStore {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly #sql: PostgresSql;
  readonly #lockKey: string;
  /**
   * A write transaction holds one pooled client and, while it checks or rewrites blobs, may need a
   * second one (the Postgres blob store queries through the same pool). Letting at most max - 1
   * transactions in at once means one client is always free, so they can never all wait on each
   * other for the last connection.
   */
  readonly #writers: AsyncSemaphore;

  constructor(pool: pg.Pool, schema: string) {
    this.pool = pool;
    this.schema = schema;
    this.#sql = postgresSql(schema);
    this.#lockKey = `leangraph:checkpointer:${schema}`;
    this.#writers = new AsyncSemaphore((pool.options.max ?? 10) - 1);
  }

  /**
   * Creates the schema and runs pending migrations. Idempotent and safe when several processes
   * start at once: the migration transaction holds the schema's exclusive advisory lock.
   */
  async migrate(context: MigrationContext): Promise<void> {
    const migrations = postgresMigrations(this.schema);
    await inTransaction(this.pool, async (client) => {
      await client.query(this.#sql.lockExclusive, [this.#lockKey]);
      await client.query(this.#sql.createSchema);
      await client.query(this.#sql.createMigrationsTable);
      const applied = new Set(
        (await client.query<{ v: number }>(this.#sql.migrationsApplied)).rows.map((row) => row.v),
      );
      const newest = Math.max(-1, ...applied);
      if (newest >= migrations.length) {
        throw new LeangraphError(
          CheckpointerErrorCode.schemaTooNew,
          `Schema "${this.schema}" is at migration ${newest}, newer than this @leangraph/checkpointer knows (${migrations.length - 1}).`,
          {
            hint: "Upgrade @leangraph/checkpointer, or point LG_POSTGRES_URL / the schema option elsewhere.",
          },
        );
      }
      for (const [version, migration] of migrations.entries()) {
        if (applied.has(version)) continue;
        if (typeof migration === "string") await client.query(migration);
        else await migration.compute(client, context);
        await client.query(this.#sql.recordMigration, [version]);
      }
    });
  }

  async itemBodies(ids: readonly string[]): Promise<Map<string, Uint8Array | null>> {
    const { rows } = await this.pool.query<{
      id: string;
      in_blob_store: boolean;
      body: Buffer | null;
    }>(this.#sql.itemBodies, [ids]);
    return new Map(
      rows.map((row) => [row.id, row.in_blob_store ? null : (row.body ?? Buffer.alloc(0))]),
    );
  }

  async getCheckpoint(threadId: string, checkpointNs: string, checkpointId?: string) {
    const { rows } =
      checkpointId === undefined
        ? await this.pool.query<CheckpointRecord>(this.#sql.latestCheckpoint, [
            threadId,
            checkpointNs,
          ])
        : await this.pool.query<CheckpointRecord>(this.#sql.checkpointById, [
            threadId,
            checkpointNs,
            checkpointId,
          ]);
    return rows[0] && checkpointRowFromRecord(rows[0]);
  }

  async listCheckpoints(query: ListQuery): Promise<CheckpointRow[]> {
    const conditions = listConditions(query);
    const where = conditions.map(
      ({ column, operator }, index) => `${column} ${operator} $${index + 1}`,
    );
    const params: unknown[] = conditions.map(({ value }) => value);
    for (const { key, json } of query.metadataEquals ?? []) {
      params.push(key, json);
      where.push(this.#sql.metadataEquals(params.length - 1, params.length));
    }
    const sql = `${this.#sql.listCheckpointsFrom} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY checkpoint_id DESC${limitClause(query.limit)}`;
    const { rows } = await this.pool.query<CheckpointRecord>(sql, params);
    return rows.map(checkpointRowFromRecord);
  }

  async getWrites(
    threadId: string,
    checkpointNs: string,
    checkpointIds: readonly string[],
  ): Promise<Map<string, WriteRow[]>> {
    const { rows } = await this.pool.query<WriteRecord>(this.#sql.writesOf, [
      threadId,
      checkpointNs,
      checkpointIds,
    ]);
    return writesByCheckpoint(rows);
  }

  async retainedHistory(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
    channels: readonly string[],
  ): Promise<Map<string, RetainedHistory>> {
    const { rows } = await this.pool.query<{
      channel: string;
      seq: number;
      task_id: string;
      value_ref: string;
    }>(this.#sql.retainedHistory, [threadId, checkpointNs, checkpointId, channels]);
    return retainedHistoriesFromRows(rows);
  }

  async threadIds(afterThreadId: string | undefined, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ thread_id: string }>(this.#sql.threadIds, [
      afterThreadId ?? "",
      limit,
    ]);
    return rows.map((row) => row.thread_id);
  }

  async existingItemIds(ids: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>(this.#sql.existingItemIds, [ids]);
    return new Set(rows.map((row) => row.id));
  }

  itemMeta(ids: readonly string[]): Promise<Map<string, ItemMeta>> {
    return itemMetaVia(this.pool, this.#sql, ids);
  }

  liveRoots(): Promise<LiveRoots> {
    return liveRootsVia(this.pool, this.#sql);
  }

  allItems(): Promise<{ id: string; inBlobStore: boolean }[]> {
    return allItemsVia(this.pool, this.#sql);
  }

  async retainedRefs(threadId: string): Promise<RetainedRef[]> {
    const { rows } = await this.pool.query<Parameters<typeof retainedRefFromRecord>[0]>(
      this.#sql.retainedRefsOfThread,
      [threadId],
    );
    return rows.map(retainedRefFromRecord);
  }

  async blobChildren(parentIds: readonly string[]): Promise<Map<string, string[]>> {
    const { rows } = await this.pool.query<{ parent_id: string; child_ids: Buffer }>(
      this.#sql.blobChildren,
      [parentIds],
    );
    return blobChildrenFromRows(rows);
  }

  async write<T>(
    work: (tx: RowWriteTransaction) => Promise<T>,
    options: { exclusive?: boolean } = {},
  ): Promise<T> {
    return this.#writers.run(async () => {
      const client = await this.pool.connect();
      try {
        await client.query(options.exclusive ? this.#sql.beginExclusive : this.#sql.beginShared);
        try {
          const result = await work(this.#transaction(client));
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        }
      } finally {
        client.release();
      }
    });
  }

  #transaction(client: pg.PoolClient): RowWriteTransaction {
    const sql = this.#sql;
    return {
      async insertItems(items: readonly NewItem[]) {
        if (items.length === 0) return [];
        const { rows } = await client.query<{ id: string }>(sql.insertItems, [
          items.map((item) => item.id),
          items.map((item) => item.kind),
          items.map((item) => item.inBlobStore),
          items.map((item) => item.bytes.byteLength),
          items.map((item) =>
            item.inBlobStore
              ? null
              : Buffer.from(item.bytes.buffer, item.bytes.byteOffset, item.bytes.byteLength),
          ),
          items.map((item) => blobRefsColumn(item.blobRefs)),
        ]);
        const inserted = new Set(rows.map((row) => row.id));
        return items.filter((item) => inserted.has(item.id));
      },
      async missingItemIds(ids) {
        const { rows } = await client.query<{ id: string }>(sql.existingItemIds, [ids]);
        const present = new Set(rows.map((row) => row.id));
        return ids.filter((id) => !present.has(id));
      },
      async upsertCheckpoint(row) {
        await client.query(sql.upsertCheckpoint, [
          row.threadId,
          row.checkpointNs,
          row.checkpointId,
          row.parentCheckpointId ?? null,
          row.checkpointType,
          Buffer.from(row.checkpoint),
          row.metadataType,
          Buffer.from(row.metadata),
          row.channelRefs,
          row.createdAtMs ?? null,
          blobRefsColumn(row.blobRefs),
        ]);
      },
      async insertWrites(threadId, checkpointNs, checkpointId, rows) {
        for (const row of rows) {
          await client.query(row.idx < 0 ? sql.insertWriteReplace : sql.insertWriteKeepFirst, [
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
      async deleteThread(threadId) {
        await client.query(sql.deleteThreadCheckpoints, [threadId]);
        await client.query(sql.deleteThreadWrites, [threadId]);
        await client.query(sql.deleteThreadRetained, [threadId]);
      },
      async checkpointPlaces(threadId) {
        const { rows } = await client.query<{
          checkpoint_ns: string;
          checkpoint_id: string;
          parent_checkpoint_id: string | null;
          created_at_ms: string | null;
        }>(sql.checkpointPlaces, [threadId]);
        return rows.map((row) => ({
          checkpointNs: row.checkpoint_ns,
          checkpointId: row.checkpoint_id,
          parentCheckpointId: row.parent_checkpoint_id ?? undefined,
          createdAtMs: row.created_at_ms === null ? undefined : Number(row.created_at_ms),
        }));
      },
      async deleteCheckpoints(threadId, checkpoints) {
        if (checkpoints.length === 0) return;
        const keys = [
          threadId,
          checkpoints.map((checkpoint) => checkpoint.checkpointNs),
          checkpoints.map((checkpoint) => checkpoint.checkpointId),
        ];
        await client.query(sql.deleteCheckpoints, keys);
        await client.query(sql.deleteCheckpointWrites, keys);
      },
      async dropUnusedRetained(threadId) {
        await client.query(sql.dropUnusedRetained, [threadId]);
      },
      async putRetainedHistory(threadId, checkpointNs, checkpointId, histories) {
        if (histories.size === 0) return;
        await client.query(sql.deleteRetainedChannels, [
          threadId,
          checkpointNs,
          checkpointId,
          [...histories.keys()],
        ]);
        const rows = [...histories].flatMap(([channel, history]) =>
          retainedRowsOf(history).map((row) => ({ channel, ...row })),
        );
        await client.query(sql.insertRetained, [
          threadId,
          checkpointNs,
          checkpointId,
          rows.map((row) => row.channel),
          rows.map((row) => row.seq),
          rows.map((row) => row.taskId),
          rows.map((row) => row.valueRef),
        ]);
      },
      async copyThread(fromThreadId, toThreadId) {
        if ((await client.query(sql.threadHasCheckpoints, [toThreadId])).rows.length > 0) {
          throw configInvalidError(
            `copyThread target "${toThreadId}" already has checkpoints; delete it first.`,
          );
        }
        await client.query(sql.copyThreadCheckpoints, [toThreadId, fromThreadId]);
        await client.query(sql.copyThreadWrites, [toThreadId, fromThreadId]);
        await client.query(sql.copyThreadRetained, [toThreadId, fromThreadId]);
      },
      liveRoots: () => liveRootsVia(client, sql),
      itemMeta: (ids) => itemMetaVia(client, sql, ids),
      async insertBlobChildren(children) {
        if (children.size === 0) return;
        await client.query(sql.insertBlobChildren, [
          [...children.keys()],
          [...children.values()].map(packBlobIds),
        ]);
      },
      async blobChildren(ids) {
        const { rows } = await client.query<{ parent_id: string; child_ids: Buffer }>(
          sql.blobChildren,
          [ids],
        );
        return blobChildrenFromRows(rows);
      },
      async deleteBlobChildren(ids) {
        if (ids.length > 0) await client.query(sql.deleteBlobChildren, [ids]);
      },
      allItems: () => allItemsVia(client, sql),
      async deleteItems(ids) {
        if (ids.length > 0) await client.query(sql.deleteItems, [ids]);
      },
    };
  }

  /**
   * A plain VACUUM makes the space of deleted rows reusable, so tables stop growing across
   * write/delete cycles without waiting for autovacuum (it does not give the space back to the
   * operating system; that takes VACUUM FULL, which locks the tables, so it is left to operators).
   * It cannot run inside a transaction and takes no lock that blocks reads or writes.
   */
  async reclaimSpace(): Promise<void> {
    for (const statement of this.#sql.vacuumTables) await this.pool.query(statement);
  }

  async stats(): Promise<RowStoreStats> {
    const one = async (query: string, params: unknown[] = []) =>
      Number((await this.pool.query<{ n: string }>(query, params)).rows[0]?.n ?? 0);
    return {
      dbBytes: await one(this.#sql.relationBytes, [this.schema, savedTables]),
      checkpointCount: await one(this.#sql.checkpointCount),
      largestCheckpointRowBytes: await one(this.#sql.largestCheckpointRow),
    };
  }

  /** The pool belongs to the saver (or its caller), which decides when to end it. */
  async close(): Promise<void> {}
}

/** The rows that keep values alive (core/reachability.ts walks from them), through a pool or a transaction's client. */
async function liveRootsVia(
  queryable: pg.Pool | pg.PoolClient,
  sql: PostgresSql,
): Promise<LiveRoots> {
  const channelRefs = (await queryable.query<{ channel_refs: string }>(sql.allChannelRefs)).rows;
  const blobRefs = (await queryable.query<{ blob_refs: string }>(sql.allRowBlobRefs)).rows;
  const valueRefs = (await queryable.query<{ value_ref: string }>(sql.allValueRefs)).rows;
  const retained = (await queryable.query<{ value_ref: string }>(sql.allRetainedRefs)).rows;
  return {
    channelRefs: channelRefs.map((row) => row.channel_refs),
    blobRefs: blobRefs.map((row) => row.blob_refs),
    valueRefs: [...valueRefs, ...retained].map((row) => row.value_ref),
  };
}

async function allItemsVia(
  queryable: pg.Pool | pg.PoolClient,
  sql: PostgresSql,
): Promise<{ id: string; inBlobStore: boolean }[]> {
  const { rows } = await queryable.query<{ id: string; in_blob_store: boolean }>(sql.allItems);
  return rows.map((row) => ({ id: row.id, inBlobStore: row.in_blob_store }));
}

/** Item metadata through a pool (reads) or a transaction's client. */
async function itemMetaVia(
  queryable: pg.Pool | pg.PoolClient,
  sql: PostgresSql,
  ids: readonly string[],
): Promise<Map<string, ItemMeta>> {
  const { rows } = await queryable.query<{
    id: string;
    kind: NewItem["kind"];
    in_blob_store: boolean;
    node_body: Buffer | null;
    blob_refs: string | null;
  }>(sql.itemMeta, [ids]);
  return new Map<string, ItemMeta>(
    rows.map((row) => [
      row.id,
      {
        kind: row.kind,
        inBlobStore: row.in_blob_store,
        nodeBytes: row.node_body ?? undefined,
        blobRefs: parseBlobRefsColumn(row.blob_refs),
      },
    ]),
  );
}
