import type Database from "better-sqlite3";
import type { MigrationContext } from "../core/migration-context.js";
import {
  type CheckpointRecord,
  type CheckpointRow,
  checkpointRowFromRecord,
  type ListQuery,
  limitClause,
  listConditions,
  type RowStoreStats,
  type RowWriteTransaction,
} from "../core/row-store.js";
import {
  inWriteTransaction,
  type SqlDialect,
  SqlRowStore,
  type SqlTransactionConnection,
} from "../core/sql-row-store.js";
import { AsyncMutex } from "../core/write/mutex.js";
import { schemaTooNewError } from "../errors.js";
import { sqliteDatabaseBytes } from "./database-bytes.js";
import { sqliteMigrations } from "./migrations.js";
import { SQL } from "./sql.js";

const sqliteDialect: SqlDialect = {
  statements: SQL,
  list: (values) => JSON.stringify(values),
  flag: (value) => (value ? 1 : 0),
  bytes: (value) => value,
  batchesRows: false,
};

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

export class SqliteRowStore extends SqlRowStore {
  readonly db: Database.Database;
  readonly #mutex = new AsyncMutex();
  readonly #busyTimeoutMs: number;
  #idleCheckpoint: NodeJS.Timeout | undefined;
  /** Prepared once per statement text (better-sqlite3 statements are reusable). */
  readonly #statement: (sql: string) => Database.Statement;
  readonly #connection: SqlTransactionConnection;

  constructor(db: Database.Database, busyTimeoutMs: number) {
    // better-sqlite3 is synchronous: one connection serves reads and the write transaction.
    const statements = new Map<string, Database.Statement>();
    const statement = (sql: string) => {
      let prepared = statements.get(sql);
      if (prepared === undefined) {
        prepared = db.prepare(sql);
        statements.set(sql, prepared);
      }
      return prepared;
    };
    const connection: SqlTransactionConnection = {
      query: async <R>(sql: string, params: readonly unknown[] = []) =>
        statement(sql).all(...params) as R[],
      run: async (sql, params = []) => statement(sql).run(...params).changes,
      rollback: async () => {
        if (db.inTransaction) db.exec("ROLLBACK");
      },
    };
    super(sqliteDialect, connection);
    this.db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#statement = statement;
    this.#connection = connection;
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

  /**
   * Idempotent; safe from several processes at once: each migration checks and records its
   * version under the write lock (BEGIN IMMEDIATE), so exactly one process applies it.
   */
  migrate(context: MigrationContext): Promise<void> {
    return this.#mutex.run(async () => {
      this.#refuseNewerSchema();
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

  #refuseNewerSchema(): void {
    if (this.db.prepare(SQL.migrationsTableExists).get() === undefined) return;
    const newest = this.db.prepare(SQL.newestMigration).pluck().get() as number | null;
    if (newest !== null && newest >= sqliteMigrations.length)
      throw schemaTooNewError(
        `SQLite database ${this.db.name}`,
        newest,
        sqliteMigrations.length - 1,
        "Upgrade @leangraph/checkpointer, or point LG_SQLITE_PATH / the saver at another file.",
      );
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

  write<T>(work: (tx: RowWriteTransaction) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      // Exclusive and shared writes are the same here: SQLite has one writer at a time.
      const result = await inWriteTransaction(
        sqliteDialect,
        this.#connection,
        "BEGIN IMMEDIATE",
        work,
      );
      this.#scheduleIdleCheckpoint();
      return result;
    });
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
