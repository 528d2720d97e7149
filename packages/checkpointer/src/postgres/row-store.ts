import type pg from "pg";
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
  type SqlConnection,
  type SqlDialect,
  SqlRowStore,
} from "../core/sql-row-store.js";
import { AsyncSemaphore } from "../core/write/mutex.js";
import { schemaTooNewError } from "../errors.js";
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

/** A pool (reads) or a transaction's client as a SqlConnection. */
function connectionOf(queryable: pg.Pool | pg.PoolClient): SqlConnection {
  // No parameters: the simple protocol, which also runs `BEGIN; SELECT pg_advisory…` in one trip.
  const send = (sql: string, params: readonly unknown[] = []) =>
    queryable.query(sql, params.length > 0 ? (params as unknown[]) : undefined);
  return {
    query: async <R>(sql: string, params?: readonly unknown[]) =>
      (await send(sql, params)).rows as R[],
    run: async (sql, params) => (await send(sql, params)).rowCount ?? 0,
  };
}

function postgresDialect(sql: PostgresSql): SqlDialect {
  return {
    statements: sql,
    list: (values) => values,
    flag: (value) => value,
    // A view, not a copy: node-postgres sends a Buffer as bytea (a bare Uint8Array as JSON).
    bytes: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    batchesRows: true,
  };
}

export class PostgresRowStore extends SqlRowStore {
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
    const sql = postgresSql(schema);
    super(postgresDialect(sql), connectionOf(pool));
    this.pool = pool;
    this.schema = schema;
    this.#sql = sql;
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
        throw schemaTooNewError(
          `Schema "${this.schema}"`,
          newest,
          migrations.length - 1,
          "Upgrade @leangraph/checkpointer, or point LG_POSTGRES_URL / the schema option elsewhere.",
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

  async write<T>(
    work: (tx: RowWriteTransaction) => Promise<T>,
    options: { exclusive?: boolean } = {},
  ): Promise<T> {
    return this.#writers.run(async () => {
      const client = await this.pool.connect();
      try {
        return await inWriteTransaction(
          this.dialect,
          {
            ...connectionOf(client),
            rollback: async () => {
              await client.query("ROLLBACK").catch(() => {});
            },
          },
          options.exclusive ? this.#sql.beginExclusive : this.#sql.beginShared,
          work,
        );
      } finally {
        client.release();
      }
    });
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
