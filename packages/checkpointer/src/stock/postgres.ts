import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type pg from "pg";
import type { StorageStats } from "../core/lean-saver.js";
import { quotedSchema } from "../postgres/identifiers.js";

/** The stock PostgresSaver plus storageStats() and close(); see stock/sqlite.ts. */
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
