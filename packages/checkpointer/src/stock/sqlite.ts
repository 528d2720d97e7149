import { statSync } from "node:fs";
import { MemorySaver, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type Database from "better-sqlite3";
import type pg from "pg";
import type { StorageStats } from "./core/lean-saver.js";
import { quotedSchema } from "./postgres/identifiers.js";

/**
 * The stock savers, unchanged in behaviour, plus the two methods every saver `createCheckpointer`
 * returns has: `storageStats()` and `close()`. This is what `LG_REDACTING_SERDE=off` hands out,
 * so a before/after comparison measures the stock code, not a re-implementation.
 */
function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export class MeasuredSqliteSaver extends SqliteSaver {
  constructor(db: Database.Database, serde?: SerializerProtocol) {
    super(db, serde);
  }

  async storageStats(): Promise<StorageStats> {
    this.setup();
    const file = this.db.name;
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(MAX(length(CAST(thread_id AS BLOB)) + length(CAST(checkpoint_ns AS BLOB))
          + length(CAST(checkpoint_id AS BLOB)) + COALESCE(length(CAST(parent_checkpoint_id AS BLOB)), 0)
          + COALESCE(length(CAST(type AS BLOB)), 0) + length(checkpoint) + length(metadata)), 0) AS largest
         FROM checkpoints`,
      )
      .get() as { n: number; largest: number };
    return {
      dbBytes: this.db.memory
        ? 0
        : fileBytes(file) + fileBytes(`${file}-wal`) + fileBytes(`${file}-shm`),
      blobBytes: 0,
      blobCount: 0,
      checkpointCount: row.n,
      largestCheckpointRowBytes: row.largest,
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export class MeasuredPostgresSaver extends PostgresSaver {
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #ownsPool: boolean;

  constructor(
    pool: pg.Pool,
    options: { schema?: string; serde?: SerializerProtocol; ownsPool?: boolean } = {},
  ) {
    super(pool, options.serde, { schema: options.schema ?? "public" });
    this.#pool = pool;
    this.#schema = options.schema ?? "public";
    this.#ownsPool = options.ownsPool ?? false;
  }

  async storageStats(): Promise<StorageStats> {
    const s = quotedSchema(this.#schema);
    const size = await this.#pool.query<{ n: string }>(
      `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class AS c
       JOIN pg_namespace AS n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r'
         AND c.relname IN ('checkpoints', 'checkpoint_blobs', 'checkpoint_writes', 'checkpoint_migrations')`,
      [this.#schema],
    );
    // Stock rows keep channel values in checkpoint_blobs; a checkpoint row's own size is what
    // getTuple reads before joining those in.
    const rows = await this.#pool.query<{ n: string; largest: string }>(
      `SELECT COUNT(*)::bigint AS n, COALESCE(MAX(pg_column_size(c.*)), 0)::bigint AS largest FROM ${s}.checkpoints AS c`,
    );
    const blobs = await this.#pool.query<{ n: string; bytes: string }>(
      `SELECT COUNT(*)::bigint AS n, COALESCE(SUM(octet_length(blob)), 0)::bigint AS bytes FROM ${s}.checkpoint_blobs`,
    );
    return {
      dbBytes: Number(size.rows[0]?.n ?? 0),
      blobBytes: Number(blobs.rows[0]?.bytes ?? 0),
      blobCount: Number(blobs.rows[0]?.n ?? 0),
      checkpointCount: Number(rows.rows[0]?.n ?? 0),
      largestCheckpointRowBytes: Number(rows.rows[0]?.largest ?? 0),
    };
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }
}

export class MeasuredMemorySaver extends MemorySaver {
  /** Bytes of the serialized checkpoints, metadata and writes it holds in this heap. */
  async storageStats(): Promise<StorageStats> {
    let dbBytes = 0;
    let checkpointCount = 0;
    let largestCheckpointRowBytes = 0;
    for (const namespaces of Object.values(this.storage)) {
      for (const checkpoints of Object.values(namespaces)) {
        for (const [checkpoint, metadata] of Object.values(checkpoints)) {
          const rowBytes = checkpoint.byteLength + metadata.byteLength;
          dbBytes += rowBytes;
          checkpointCount += 1;
          largestCheckpointRowBytes = Math.max(largestCheckpointRowBytes, rowBytes);
        }
      }
    }
    for (const writes of Object.values(this.writes)) {
      for (const [, , value] of Object.values(writes)) dbBytes += value.byteLength;
    }
    return { dbBytes, blobBytes: 0, blobCount: 0, checkpointCount, largestCheckpointRowBytes };
  }

  async close(): Promise<void> {}
}
