import type Database from "better-sqlite3";
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
import { AsyncMutex } from "../core/write/mutex.js";
import { configInvalidError } from "../errors.js";
import { sqliteDatabaseBytes } from "./database-bytes.js";
import { sqliteMigrations } from "./migrations.js";
import { SQL } from "./sql.js";

/**
 * Connection settings, and why:
 * - WAL: readers never block the writer and vice versa, so several processes can share a file.
 * - busy_timeout: a writer waits for another process's transaction instead of failing with
 *   SQLITE_BUSY; together with BEGIN IMMEDIATE (take the write lock up front, never upgrade a read
 *   transaction) no caller sees SQLITE_BUSY under contention.
 * - synchronous=NORMAL: in WAL mode a process crash (SIGKILL) loses nothing committed, and power
 *   loss can only lose the last transactions, never corrupt the file. Blobs are fsynced before
 *   their row commits, so a lost row leaves an orphan blob for gc(), never a dangling reference.
 *   FULL would fsync on every commit, doubling put latency for protection against power loss only.
 * - auto_vacuum=INCREMENTAL (set first: it only takes on a file with no pages yet, and WAL mode
 *   writes the first page): pages freed by lifecycle deletes go back to the file system when
 *   reclaimSpace() runs `incremental_vacuum`, instead of staying in the file forever.
 * - The WAL counts as bytes on disk, but checkpointing it inside every few puts doubles put
 *   latency. So SQLite's own autocheckpoint stays at its default (1000 pages) as a bound during
 *   bursts, and SqliteRowStore folds the WAL back and truncates it once writes pause
 *   (idleCheckpointMs); journal_size_limit caps what a reset WAL keeps.
 */
export function configureConnection(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_autocheckpoint = 1000");
  db.pragma(`journal_size_limit = ${1024 * 1024}`);
}

export class SqliteRowStore implements RowStore {
  readonly db: Database.Database;
  readonly #mutex = new AsyncMutex();
  readonly #busyTimeoutMs: number;
  #idleCheckpoint: NodeJS.Timeout | undefined;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database, busyTimeoutMs: number) {
    this.db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /**
   * After writes pause for 100 ms, move the WAL into the database file and truncate it. Never
   * waits: with a zero busy timeout a checkpoint that would have to wait for another process's
   * reader simply does less (and the next pause tries again).
   */
  #scheduleIdleCheckpoint(): void {
    if (this.db.memory) return;
    clearTimeout(this.#idleCheckpoint);
    this.#idleCheckpoint = setTimeout(() => {
      if (!this.db.open || this.db.inTransaction) return;
      this.db.pragma("busy_timeout = 0");
      try {
        this.db.pragma("wal_checkpoint(TRUNCATE)");
      } catch {
        // SQLITE_BUSY from a concurrent writer: nothing lost, the WAL is simply folded later.
      } finally {
        this.db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
      }
    }, 100);
    this.#idleCheckpoint.unref();
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Idempotent; safe from several processes at once: each migration checks and records its
   * version under the write lock (BEGIN IMMEDIATE), so exactly one process applies it.
   */
  migrate(context: MigrationContext): Promise<void> {
    return this.#mutex.run(async () => {
      for (const [version, migration] of sqliteMigrations.entries()) {
        if (typeof migration === "object" && "outsideTransaction" in migration) {
          if (this.#inTransaction(() => this.#applied(version))) continue;
          migration.outsideTransaction(this.db);
          this.#inTransaction(() => {
            if (!this.#applied(version)) this.db.prepare(SQL.recordMigration).run(version);
          });
          continue;
        }
        this.db.exec("BEGIN IMMEDIATE");
        try {
          if (!this.#applied(version)) {
            if (typeof migration === "string") this.db.exec(migration);
            else await migration.compute(this.db, context);
            this.db.prepare(SQL.recordMigration).run(version);
          }
          this.db.exec("COMMIT");
        } catch (error) {
          if (this.db.inTransaction) this.db.exec("ROLLBACK");
          throw error;
        }
      }
    });
  }

  #applied(version: number): boolean {
    return (
      this.db.prepare(SQL.migrationsTableExists).get() !== undefined &&
      this.db.prepare(SQL.migrationApplied).get(version) !== undefined
    );
  }

  #inTransaction<T>(work: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }

  async itemBodies(ids: readonly string[]): Promise<Map<string, Uint8Array | null>> {
    const rows = this.#statement(SQL.itemBodies).all(JSON.stringify(ids)) as {
      id: string;
      in_blob_store: number;
      body: Buffer | null;
    }[];
    return new Map(
      rows.map((row) => [row.id, row.in_blob_store ? null : (row.body ?? Buffer.alloc(0))]),
    );
  }

  async getCheckpoint(threadId: string, checkpointNs: string, checkpointId?: string) {
    const record = (
      checkpointId === undefined
        ? this.#statement(SQL.latestCheckpoint).get(threadId, checkpointNs)
        : this.#statement(SQL.checkpointById).get(threadId, checkpointNs, checkpointId)
    ) as CheckpointRecord | undefined;
    return record && checkpointRowFromRecord(record);
  }

  async listCheckpoints(query: ListQuery): Promise<CheckpointRow[]> {
    const conditions = listConditions(query);
    const where = conditions.map(({ column, operator }) => `${column} ${operator} ?`);
    const params: unknown[] = conditions.map(({ value }) => value);
    for (const { key, json } of query.metadataEquals ?? []) {
      // A JSON path can quote any key but one holding a double quote: that one the saver checks.
      if (key.includes('"')) continue;
      where.push(SQL.metadataEquals);
      params.push(`$."${key}"`, json);
    }
    const sql = `SELECT * FROM lg_checkpoints ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY checkpoint_id DESC${limitClause(query.limit)}`;
    return (this.#statement(sql).all(...params) as CheckpointRecord[]).map(checkpointRowFromRecord);
  }

  async getWrites(
    threadId: string,
    checkpointNs: string,
    checkpointIds: readonly string[],
  ): Promise<Map<string, WriteRow[]>> {
    const records = this.#statement(SQL.writesOf).all(
      threadId,
      checkpointNs,
      JSON.stringify(checkpointIds),
    ) as WriteRecord[];
    return writesByCheckpoint(records);
  }

  async existingItemIds(ids: readonly string[]): Promise<Set<string>> {
    const rows = this.#statement(SQL.existingItemIds).all(JSON.stringify(ids)) as { id: string }[];
    return new Set(rows.map((row) => row.id));
  }

  async retainedHistory(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
    channels: readonly string[],
  ): Promise<Map<string, RetainedHistory>> {
    const rows = this.#statement(SQL.retainedHistory).all(
      threadId,
      checkpointNs,
      checkpointId,
      JSON.stringify(channels),
    ) as { channel: string; seq: number; task_id: string; value_ref: string }[];
    return retainedHistoriesFromRows(rows);
  }

  async threadIds(afterThreadId: string | undefined, limit: number): Promise<string[]> {
    return this.#statement(SQL.threadIds)
      .pluck()
      .all(afterThreadId ?? "", limit) as string[];
  }

  async itemMeta(ids: readonly string[]): Promise<Map<string, ItemMeta>> {
    const rows = this.#statement(SQL.itemMeta).all(JSON.stringify(ids)) as {
      id: string;
      kind: NewItem["kind"];
      in_blob_store: number;
      node_body: Buffer | null;
      blob_refs: string | null;
    }[];
    return new Map<string, ItemMeta>(
      rows.map((row) => [
        row.id,
        {
          kind: row.kind,
          inBlobStore: row.in_blob_store === 1,
          nodeBytes: row.node_body ?? undefined,
          blobRefs: parseBlobRefsColumn(row.blob_refs),
        },
      ]),
    );
  }

  async liveRoots(): Promise<LiveRoots> {
    return {
      channelRefs: this.#statement(SQL.allChannelRefs).pluck().all() as string[],
      blobRefs: this.#statement(SQL.allRowBlobRefs).pluck().all() as string[],
      valueRefs: [
        ...(this.#statement(SQL.allValueRefs).pluck().all() as string[]),
        ...(this.#statement(SQL.allRetainedRefs).pluck().all() as string[]),
      ],
    };
  }

  async allItems(): Promise<{ id: string; inBlobStore: boolean }[]> {
    return (this.#statement(SQL.allItems).all() as { id: string; in_blob_store: number }[]).map(
      (row) => ({ id: row.id, inBlobStore: row.in_blob_store === 1 }),
    );
  }

  async retainedRefs(threadId: string): Promise<RetainedRef[]> {
    return (
      this.#statement(SQL.retainedRefsOfThread).all(threadId) as Parameters<
        typeof retainedRefFromRecord
      >[0][]
    ).map(retainedRefFromRecord);
  }

  async blobChildren(parentIds: readonly string[]): Promise<Map<string, string[]>> {
    return blobChildrenFromRows(
      this.#statement(SQL.blobChildren).all(JSON.stringify(parentIds)) as {
        parent_id: string;
        child_ids: Buffer;
      }[],
    );
  }

  write<T>(work: (tx: RowWriteTransaction) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      // Exclusive and shared writes are the same here: SQLite has one writer at a time.
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(this.#transaction());
        this.db.exec("COMMIT");
        this.#scheduleIdleCheckpoint();
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  #transaction(): RowWriteTransaction {
    const statement = (sql: string) => this.#statement(sql);
    return {
      async insertItems(items: readonly NewItem[]) {
        const insert = statement(SQL.insertItem);
        return items.filter(
          (item) =>
            insert.run(
              item.id,
              item.kind,
              item.inBlobStore ? 1 : 0,
              item.bytes.byteLength,
              item.inBlobStore ? null : item.bytes,
              blobRefsColumn(item.blobRefs),
            ).changes > 0,
        );
      },
      async missingItemIds(ids) {
        const present = new Set(
          (statement(SQL.existingItemIds).all(JSON.stringify(ids)) as { id: string }[]).map(
            (row) => row.id,
          ),
        );
        return ids.filter((id) => !present.has(id));
      },
      async upsertCheckpoint(row) {
        statement(SQL.upsertCheckpoint).run(
          row.threadId,
          row.checkpointNs,
          row.checkpointId,
          row.parentCheckpointId ?? null,
          row.checkpointType,
          row.checkpoint,
          row.metadataType,
          row.metadata,
          row.channelRefs,
          row.createdAtMs ?? null,
          blobRefsColumn(row.blobRefs),
        );
      },
      async insertWrites(threadId, checkpointNs, checkpointId, rows) {
        for (const row of rows) {
          statement(row.idx < 0 ? SQL.insertWriteReplace : SQL.insertWriteKeepFirst).run(
            threadId,
            checkpointNs,
            checkpointId,
            row.taskId,
            row.idx,
            row.channel,
            row.taskPath,
            row.valueRef,
          );
        }
      },
      async deleteThread(threadId) {
        statement(SQL.deleteThreadCheckpoints).run(threadId);
        statement(SQL.deleteThreadWrites).run(threadId);
        statement(SQL.deleteThreadRetained).run(threadId);
      },
      async checkpointPlaces(threadId) {
        const rows = statement(SQL.checkpointPlaces).all(threadId) as {
          checkpoint_ns: string;
          checkpoint_id: string;
          parent_checkpoint_id: string | null;
          created_at_ms: number | null;
        }[];
        return rows.map((row) => ({
          checkpointNs: row.checkpoint_ns,
          checkpointId: row.checkpoint_id,
          parentCheckpointId: row.parent_checkpoint_id ?? undefined,
          createdAtMs: row.created_at_ms ?? undefined,
        }));
      },
      async deleteCheckpoints(threadId, checkpoints) {
        for (const { checkpointNs, checkpointId } of checkpoints) {
          statement(SQL.deleteCheckpoint).run(threadId, checkpointNs, checkpointId);
          statement(SQL.deleteCheckpointWrites).run(threadId, checkpointNs, checkpointId);
        }
      },
      async dropUnusedRetained(threadId) {
        statement(SQL.dropUnusedRetained).run(threadId);
      },
      async putRetainedHistory(threadId, checkpointNs, checkpointId, histories) {
        const insert = statement(SQL.insertRetained);
        for (const [channel, history] of histories) {
          statement(SQL.deleteRetainedChannel).run(threadId, checkpointNs, checkpointId, channel);
          for (const row of retainedRowsOf(history))
            insert.run(
              threadId,
              checkpointNs,
              checkpointId,
              channel,
              row.seq,
              row.taskId,
              row.valueRef,
            );
        }
      },
      async copyThread(fromThreadId, toThreadId) {
        if (statement(SQL.threadHasCheckpoints).get(toThreadId) !== undefined) {
          throw configInvalidError(
            `copyThread target "${toThreadId}" already has checkpoints; delete it first.`,
          );
        }
        statement(SQL.copyThreadCheckpoints).run(toThreadId, fromThreadId);
        statement(SQL.copyThreadWrites).run(toThreadId, fromThreadId);
        statement(SQL.copyThreadRetained).run(toThreadId, fromThreadId);
      },
      liveRoots: () => this.liveRoots(),
      itemMeta: (ids) => this.itemMeta(ids),
      async insertBlobChildren(children) {
        const insert = statement(SQL.insertBlobChildren);
        for (const [parent, childIds] of children) insert.run(parent, packBlobIds(childIds));
      },
      blobChildren: (ids) => this.blobChildren(ids),
      async deleteBlobChildren(ids) {
        statement(SQL.deleteBlobChildren).run(JSON.stringify(ids));
      },
      allItems: () => this.allItems(),
      async deleteItems(ids) {
        statement(SQL.deleteItems).run(JSON.stringify(ids));
      },
    };
  }

  /**
   * Freed pages leave the file (auto_vacuum=INCREMENTAL), then the WAL is folded back and
   * truncated at once rather than at the next idle moment, so the file shrinks when the call
   * returns. A busy WAL checkpoint (another process reading) only means it shrinks later.
   */
  async reclaimSpace(): Promise<void> {
    if (this.db.memory) return;
    await this.#mutex.run(async () => {
      this.db.pragma("incremental_vacuum");
      this.db.pragma("busy_timeout = 0");
      try {
        this.db.pragma("wal_checkpoint(TRUNCATE)");
      } catch (error) {
        if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
      } finally {
        this.db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
      }
    });
  }

  async stats(): Promise<RowStoreStats> {
    const dbBytes = sqliteDatabaseBytes(this.db);
    return {
      dbBytes,
      checkpointCount: (this.#statement(SQL.checkpointCount).get() as { n: number }).n,
      largestCheckpointRowBytes: (this.#statement(SQL.largestCheckpointRow).get() as { n: number })
        .n,
    };
  }

  async close(): Promise<void> {
    clearTimeout(this.#idleCheckpoint);
    if (this.db.open) this.db.close();
  }
}
