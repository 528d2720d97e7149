import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type Database from "better-sqlite3";
import type { StorageStats } from "../core/lean-saver.js";
import { sqliteDatabaseBytes } from "../sqlite/database-bytes.js";

/*
 * The stock savers, unchanged in behaviour, plus the two methods every saver `createCheckpointer`
 * returns has: `storageStats()` and `close()`. This is what `LG_REDACTING_SERDE=off` hands out,
 * so a before/after comparison measures the stock code, not a re-implementation. Internal: one
 * file per backend, loaded only when that backend is chosen, so each stock saver stays an
 * optional peer dependency.
 */

export class MeasuredSqliteSaver extends SqliteSaver {
  constructor(db: Database.Database, serde?: SerializerProtocol) {
    super(db, serde);
  }

  async storageStats(): Promise<StorageStats> {
    this.setup();
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(MAX(length(CAST(thread_id AS BLOB)) + length(CAST(checkpoint_ns AS BLOB))
          + length(CAST(checkpoint_id AS BLOB)) + COALESCE(length(CAST(parent_checkpoint_id AS BLOB)), 0)
          + COALESCE(length(CAST(type AS BLOB)), 0) + length(checkpoint) + length(metadata)), 0) AS largest
         FROM checkpoints`,
      )
      .get() as { n: number; largest: number };
    return {
      dbBytes: sqliteDatabaseBytes(this.db),
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
