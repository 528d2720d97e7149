import type { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type BetterSqlite3 from "better-sqlite3";
import { openSqliteReadOnly } from "../database/connections.js";
import { loadStockSqliteSaver } from "../database/drivers.js";
import {
  type CheckpointId,
  type CheckpointKey,
  configOf,
  keyPageSize,
  keysetPages,
  type StockSource,
  type StockThreadSize,
  type StockTotals,
} from "./stock-source.js";

/** Statements over the stock SqliteSaver's tables (`checkpoints`, `writes`), by name. */
const SQL = {
  firstKeys: `SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id,
      (SELECT COUNT(*) FROM writes AS w WHERE w.thread_id = c.thread_id
        AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id) AS write_count
    FROM checkpoints AS c ORDER BY c.thread_id, c.checkpoint_ns, c.checkpoint_id LIMIT ?`,
  keysAfter: `SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id,
      (SELECT COUNT(*) FROM writes AS w WHERE w.thread_id = c.thread_id
        AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id) AS write_count
    FROM checkpoints AS c WHERE (c.thread_id, c.checkpoint_ns, c.checkpoint_id) > (?, ?, ?)
    ORDER BY c.thread_id, c.checkpoint_ns, c.checkpoint_id LIMIT ?`,
  checkpointsPerThread: `SELECT thread_id, COUNT(*) AS checkpoints, COUNT(DISTINCT checkpoint_ns) AS namespaces,
      COALESCE(SUM(length(checkpoint) + length(metadata)), 0) AS bytes FROM checkpoints GROUP BY thread_id`,
  writesPerThread: `SELECT thread_id, COUNT(*) AS writes, COALESCE(SUM(length(value)), 0) AS bytes
    FROM writes GROUP BY thread_id`,
  counts: `SELECT (SELECT COUNT(*) FROM checkpoints) AS checkpoints,
      (SELECT COUNT(DISTINCT thread_id) FROM checkpoints) AS threads,
      (SELECT COUNT(*) FROM writes) AS writes`,
} as const;

interface KeyRecord {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  write_count: number;
}

function keyOf(record: KeyRecord): CheckpointKey {
  return {
    threadId: record.thread_id,
    checkpointNs: record.checkpoint_ns,
    checkpointId: record.checkpoint_id,
    parentCheckpointId: record.parent_checkpoint_id ?? undefined,
    writeCount: record.write_count,
  };
}

export async function openStockSqliteSource(path: string): Promise<StockSource> {
  const SqliteSaverClass = await loadStockSqliteSaver();
  const db = await openSqliteReadOnly(path);
  const saver: SqliteSaver = new SqliteSaverClass(db);
  // Loaded here, not at the top: that entry loads better-sqlite3, which a Postgres user may lack.
  const { sqliteDatabaseBytes } = await import("@leangraph/checkpointer/sqlite");
  return new StockSqliteSource(db, saver, sqliteDatabaseBytes);
}

class StockSqliteSource implements StockSource {
  readonly backend = "sqlite" as const;

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly saver: SqliteSaver,
    private readonly databaseBytes: (db: BetterSqlite3.Database) => number,
  ) {}

  get serde() {
    return this.saver.serde;
  }

  async totals(): Promise<StockTotals> {
    const counts = this.db.prepare(SQL.counts).get() as Omit<StockTotals, "databaseBytes">;
    return {
      // The same count as the lean saver's storageStats().dbBytes, so the two compare like for like.
      databaseBytes: this.databaseBytes(this.db),
      ...counts,
    };
  }

  async threadSizes(): Promise<StockThreadSize[]> {
    const sizes = new Map<string, StockThreadSize>();
    for (const row of this.db.prepare(SQL.checkpointsPerThread).iterate() as Iterable<{
      thread_id: string;
      checkpoints: number;
      namespaces: number;
      bytes: number;
    }>) {
      sizes.set(row.thread_id, {
        threadId: row.thread_id,
        checkpoints: row.checkpoints,
        namespaces: row.namespaces,
        writes: 0,
        bytes: row.bytes,
      });
    }
    for (const row of this.db.prepare(SQL.writesPerThread).iterate() as Iterable<{
      thread_id: string;
      writes: number;
      bytes: number;
    }>) {
      const size = sizes.get(row.thread_id) ?? {
        threadId: row.thread_id,
        checkpoints: 0,
        namespaces: 0,
        writes: 0,
        bytes: 0,
      };
      size.writes = row.writes;
      size.bytes += row.bytes;
      sizes.set(row.thread_id, size);
    }
    return [...sizes.values()].sort((a, b) => b.bytes - a.bytes);
  }

  async *keys(): AsyncIterable<CheckpointKey> {
    const pages = keysetPages(
      () => this.db.prepare(SQL.firstKeys).all(keyPageSize) as KeyRecord[],
      (last) =>
        this.db
          .prepare(SQL.keysAfter)
          .all(last.thread_id, last.checkpoint_ns, last.checkpoint_id, keyPageSize) as KeyRecord[],
    );
    for await (const record of pages) yield keyOf(record);
  }

  getTuple(key: CheckpointId) {
    return this.saver.getTuple(configOf(key));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
