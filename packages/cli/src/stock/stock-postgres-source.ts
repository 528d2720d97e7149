import type {
  Checkpoint,
  CheckpointMetadata,
  CheckpointPendingWrite,
  CheckpointTuple,
} from "@langchain/langgraph-checkpoint";
import type { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type pg from "pg";
import { createReadOnlyPool } from "../database/connections.js";
import { loadStockPostgresSaver } from "../database/drivers.js";
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

/** Statements over the stock PostgresSaver's tables in one (validated, quoted) schema. */
export function stockPostgresSql(schema: string) {
  const s = `"${schema}"`;
  const keyColumns = `c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id,
      (SELECT COUNT(*) FROM ${s}.checkpoint_writes AS w WHERE w.thread_id = c.thread_id
        AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id)::int AS write_count`;
  return {
    firstKeys: `SELECT ${keyColumns} FROM ${s}.checkpoints AS c
      ORDER BY c.thread_id, c.checkpoint_ns, c.checkpoint_id LIMIT $1`,
    keysAfter: `SELECT ${keyColumns} FROM ${s}.checkpoints AS c
      WHERE (c.thread_id, c.checkpoint_ns, c.checkpoint_id) > ($1, $2, $3)
      ORDER BY c.thread_id, c.checkpoint_ns, c.checkpoint_id LIMIT $4`,
    checkpointsPerThread: `SELECT thread_id, COUNT(*)::bigint AS checkpoints,
        COUNT(DISTINCT checkpoint_ns)::bigint AS namespaces,
        COALESCE(SUM(pg_column_size(checkpoint) + pg_column_size(metadata)), 0)::bigint AS bytes
      FROM ${s}.checkpoints GROUP BY thread_id`,
    blobsPerThread: `SELECT thread_id, COALESCE(SUM(octet_length(blob)), 0)::bigint AS bytes
      FROM ${s}.checkpoint_blobs GROUP BY thread_id`,
    writesPerThread: `SELECT thread_id, COUNT(*)::bigint AS writes,
        COALESCE(SUM(octet_length(blob)), 0)::bigint AS bytes
      FROM ${s}.checkpoint_writes GROUP BY thread_id`,
    // One checkpoint, as PostgresSaver.getTuple reads it, but each blob as a row of its own: the
    // stock query aggregates them into a bytea[][] that node-postgres parses from text, which at
    // 100 appended 200 KB files takes ~9 s and ~1.5 GB per checkpoint read.
    checkpointRow: `SELECT thread_id, checkpoint, checkpoint_ns, checkpoint_id, parent_checkpoint_id, metadata
      FROM ${s}.checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
    channelValues: `SELECT bl.channel, bl.type, bl.blob FROM ${s}.checkpoints AS cp
      CROSS JOIN LATERAL jsonb_each_text(cp.checkpoint -> 'channel_versions') AS v
      INNER JOIN ${s}.checkpoint_blobs AS bl ON bl.thread_id = cp.thread_id
        AND bl.checkpoint_ns = cp.checkpoint_ns AND bl.channel = v.key AND bl.version = v.value
      WHERE cp.thread_id = $1 AND cp.checkpoint_ns = $2 AND cp.checkpoint_id = $3`,
    pendingWrites: `SELECT task_id, channel, type, blob FROM ${s}.checkpoint_writes
      WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3 ORDER BY task_id, idx`,
    counts: `SELECT (SELECT COUNT(*) FROM ${s}.checkpoints)::bigint AS checkpoints,
        (SELECT COUNT(DISTINCT thread_id) FROM ${s}.checkpoints)::bigint AS threads,
        (SELECT COUNT(*) FROM ${s}.checkpoint_writes)::bigint AS writes`,
    relationBytes: `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
      FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r'
        AND c.relname IN ('checkpoints', 'checkpoint_blobs', 'checkpoint_writes', 'checkpoint_migrations')`,
    // Channel value blobs, each stored once per (thread, namespace, channel, version).
    firstBlobKeys: `SELECT thread_id, checkpoint_ns, channel, version, type,
        COALESCE(octet_length(blob), 0) AS bytes
      FROM ${s}.checkpoint_blobs ORDER BY thread_id, checkpoint_ns, channel, version LIMIT $1`,
    blobKeysAfter: `SELECT thread_id, checkpoint_ns, channel, version, type,
        COALESCE(octet_length(blob), 0) AS bytes
      FROM ${s}.checkpoint_blobs WHERE (thread_id, checkpoint_ns, channel, version) > ($1, $2, $3, $4)
      ORDER BY thread_id, checkpoint_ns, channel, version LIMIT $5`,
    blobValue: `SELECT blob FROM ${s}.checkpoint_blobs
      WHERE thread_id = $1 AND checkpoint_ns = $2 AND channel = $3 AND version = $4`,
    firstWriteKeys: `SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type,
        octet_length(blob) AS bytes
      FROM ${s}.checkpoint_writes ORDER BY thread_id, checkpoint_ns, checkpoint_id, task_id, idx LIMIT $1`,
    writeKeysAfter: `SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type,
        octet_length(blob) AS bytes
      FROM ${s}.checkpoint_writes
      WHERE (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) > ($1, $2, $3, $4, $5)
      ORDER BY thread_id, checkpoint_ns, checkpoint_id, task_id, idx LIMIT $6`,
    writeValue: `SELECT blob FROM ${s}.checkpoint_writes WHERE thread_id = $1 AND checkpoint_ns = $2
      AND checkpoint_id = $3 AND task_id = $4 AND idx = $5`,
    blobBytesPerChannel: `SELECT channel, COALESCE(SUM(octet_length(blob)), 0)::bigint AS bytes
      FROM ${s}.checkpoint_blobs GROUP BY channel`,
    writeBytesPerChannel: `SELECT channel, COALESCE(SUM(octet_length(blob)), 0)::bigint AS bytes
      FROM ${s}.checkpoint_writes GROUP BY channel`,
  } as const;
}

interface KeyRecord {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  write_count: number;
}

interface CheckpointRecord {
  thread_id: string;
  checkpoint: Omit<Checkpoint, "channel_values"> & { v: number };
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  metadata: CheckpointMetadata;
}

interface BlobRecord {
  channel: string;
  type: string;
  blob: Buffer | null;
}

interface WriteRecord {
  task_id: string;
  channel: string;
  type: string;
  blob: Buffer;
}

interface BlobKeyRecord {
  thread_id: string;
  checkpoint_ns: string;
  channel: string;
  version: string;
  type: string;
  bytes: number;
}

interface WriteKeyRecord {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  task_id: string;
  idx: number;
  channel: string;
  type: string;
  bytes: number;
}

/** One pending write of a stock PostgresSaver database, described without its value. */
export interface StockWriteKey {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
  taskId: string;
  idx: number;
  channel: string;
  type: string;
  bytes: number;
}

/** One channel value blob of a stock PostgresSaver database, described without its bytes. */
export interface StockBlobKey {
  threadId: string;
  checkpointNs: string;
  channel: string;
  version: string;
  type: string;
  bytes: number;
}

export async function openStockPostgresSource(url: string, schema: string) {
  const PostgresSaverClass = await loadStockPostgresSaver();
  const pool = await createReadOnlyPool(url, 2);
  const saver: PostgresSaver = new PostgresSaverClass(pool, undefined, { schema });
  return new StockPostgresSource(pool, schema, saver);
}

export class StockPostgresSource implements StockSource {
  readonly backend = "postgres" as const;
  readonly #sql: ReturnType<typeof stockPostgresSql>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    readonly saver: PostgresSaver,
  ) {
    this.#sql = stockPostgresSql(schema);
  }

  get serde() {
    return this.saver.serde;
  }

  async totals(): Promise<StockTotals> {
    const [counts, size] = await Promise.all([
      this.pool.query<{ checkpoints: string; threads: string; writes: string }>(this.#sql.counts),
      this.pool.query<{ bytes: string }>(this.#sql.relationBytes, [this.schema]),
    ]);
    const row = counts.rows[0]!;
    return {
      databaseBytes: Number(size.rows[0]!.bytes),
      threads: Number(row.threads),
      checkpoints: Number(row.checkpoints),
      writes: Number(row.writes),
    };
  }

  async threadSizes(): Promise<StockThreadSize[]> {
    const sizes = new Map<string, StockThreadSize>();
    const sizeOf = (threadId: string) => {
      const size = sizes.get(threadId) ?? {
        threadId,
        checkpoints: 0,
        namespaces: 0,
        writes: 0,
        bytes: 0,
      };
      sizes.set(threadId, size);
      return size;
    };
    const checkpoints = await this.pool.query<{
      thread_id: string;
      checkpoints: string;
      namespaces: string;
      bytes: string;
    }>(this.#sql.checkpointsPerThread);
    for (const row of checkpoints.rows) {
      const size = sizeOf(row.thread_id);
      size.checkpoints = Number(row.checkpoints);
      size.namespaces = Number(row.namespaces);
      size.bytes += Number(row.bytes);
    }
    const blobs = await this.pool.query<{ thread_id: string; bytes: string }>(
      this.#sql.blobsPerThread,
    );
    for (const row of blobs.rows) sizeOf(row.thread_id).bytes += Number(row.bytes);
    const writes = await this.pool.query<{ thread_id: string; writes: string; bytes: string }>(
      this.#sql.writesPerThread,
    );
    for (const row of writes.rows) {
      const size = sizeOf(row.thread_id);
      size.writes = Number(row.writes);
      size.bytes += Number(row.bytes);
    }
    return [...sizes.values()].sort((a, b) => b.bytes - a.bytes);
  }

  async *keys(): AsyncIterable<CheckpointKey> {
    const pages = keysetPages(
      async () => (await this.pool.query<KeyRecord>(this.#sql.firstKeys, [keyPageSize])).rows,
      async (last) =>
        (
          await this.pool.query<KeyRecord>(this.#sql.keysAfter, [
            last.thread_id,
            last.checkpoint_ns,
            last.checkpoint_id,
            keyPageSize,
          ])
        ).rows,
    );
    for await (const record of pages) {
      yield {
        threadId: record.thread_id,
        checkpointNs: record.checkpoint_ns,
        checkpointId: record.checkpoint_id,
        parentCheckpointId: record.parent_checkpoint_id ?? undefined,
        writeCount: record.write_count,
      };
    }
  }

  /**
   * What `PostgresSaver.getTuple` returns for this checkpoint, built the way it builds it (same
   * serializer calls, same shape; test/stock-postgres-reader.int.test.ts compares the two on every
   * checkpoint of real graphs), but reading blobs as plain rows. Checkpoints older than format v4
   * carry pending sends on their parent; those are left to the stock saver itself.
   */
  async getTuple(key: CheckpointId): Promise<CheckpointTuple | undefined> {
    const params = [key.threadId, key.checkpointNs, key.checkpointId];
    const row = (await this.pool.query<CheckpointRecord>(this.#sql.checkpointRow, params)).rows[0];
    if (row === undefined) return undefined;
    if (row.checkpoint.v < 4 && row.parent_checkpoint_id != null) {
      return this.saver.getTuple(configOf(key));
    }
    const serde = this.saver.serde;
    const blobs = (await this.pool.query<BlobRecord>(this.#sql.channelValues, params)).rows;
    const channelValues: Record<string, unknown> = {};
    for (const blob of blobs) {
      if (blob.type === "empty") continue;
      channelValues[blob.channel] = await serde.loadsTyped(
        blob.type,
        blob.blob ?? new Uint8Array(),
      );
    }
    const writes = (await this.pool.query<WriteRecord>(this.#sql.pendingWrites, params)).rows;
    const pendingWrites: CheckpointPendingWrite[] = [];
    for (const write of writes) {
      pendingWrites.push([
        write.task_id,
        write.channel,
        await serde.loadsTyped(write.type, write.blob),
      ]);
    }
    // The stock saver round-trips metadata through its serializer; so must a faithful reading.
    const [metadataType, metadataBytes] = await serde.dumpsTyped(row.metadata);
    const checkpointNs = key.checkpointNs;
    return {
      config: {
        configurable: {
          thread_id: key.threadId,
          checkpoint_ns: checkpointNs,
          checkpoint_id: row.checkpoint_id,
        },
      },
      checkpoint: {
        ...row.checkpoint,
        channel_versions: row.checkpoint.channel_versions ?? {},
        versions_seen: row.checkpoint.versions_seen ?? {},
        channel_values: channelValues,
      } as Checkpoint,
      metadata: (await serde.loadsTyped(metadataType, metadataBytes)) as CheckpointMetadata,
      parentConfig: row.parent_checkpoint_id
        ? {
            configurable: {
              thread_id: key.threadId,
              checkpoint_ns: checkpointNs,
              checkpoint_id: row.parent_checkpoint_id,
            },
          }
        : undefined,
      pendingWrites,
    };
  }

  /** Every channel value blob, once each, in key order; bytes are fetched one blob at a time. */
  async *blobKeys(): AsyncIterable<StockBlobKey> {
    const pages = keysetPages(
      async () =>
        (await this.pool.query<BlobKeyRecord>(this.#sql.firstBlobKeys, [keyPageSize])).rows,
      async (last) =>
        (
          await this.pool.query<BlobKeyRecord>(this.#sql.blobKeysAfter, [
            last.thread_id,
            last.checkpoint_ns,
            last.channel,
            last.version,
            keyPageSize,
          ])
        ).rows,
    );
    for await (const row of pages) {
      yield {
        threadId: row.thread_id,
        checkpointNs: row.checkpoint_ns,
        channel: row.channel,
        version: row.version,
        type: row.type,
        bytes: Number(row.bytes),
      };
    }
  }

  /** One channel value decoded by the stock saver's serializer; undefined for an "empty" slot. */
  async blobValue(key: StockBlobKey): Promise<{ value: unknown } | undefined> {
    if (key.type === "empty") return undefined;
    const { rows } = await this.pool.query<{ blob: Buffer | null }>(this.#sql.blobValue, [
      key.threadId,
      key.checkpointNs,
      key.channel,
      key.version,
    ]);
    const blob = rows[0]?.blob;
    if (blob === undefined || blob === null) return undefined;
    return { value: await this.saver.serde.loadsTyped(key.type, blob) };
  }

  /** Every pending write, in key order, described without its value. */
  async *writeKeys(): AsyncIterable<StockWriteKey> {
    const pages = keysetPages(
      async () =>
        (await this.pool.query<WriteKeyRecord>(this.#sql.firstWriteKeys, [keyPageSize])).rows,
      async (last) =>
        (
          await this.pool.query<WriteKeyRecord>(this.#sql.writeKeysAfter, [
            last.thread_id,
            last.checkpoint_ns,
            last.checkpoint_id,
            last.task_id,
            last.idx,
            keyPageSize,
          ])
        ).rows,
    );
    for await (const row of pages) {
      yield {
        threadId: row.thread_id,
        checkpointNs: row.checkpoint_ns,
        checkpointId: row.checkpoint_id,
        taskId: row.task_id,
        idx: row.idx,
        channel: row.channel,
        type: row.type,
        bytes: Number(row.bytes),
      };
    }
  }

  async writeValue(key: StockWriteKey): Promise<unknown> {
    const { rows } = await this.pool.query<{ blob: Buffer }>(this.#sql.writeValue, [
      key.threadId,
      key.checkpointNs,
      key.checkpointId,
      key.taskId,
      key.idx,
    ]);
    const blob = rows[0]?.blob;
    return blob === undefined ? undefined : this.saver.serde.loadsTyped(key.type, blob);
  }

  async bytesPerChannel(): Promise<{ channel: string; valueBytes: number; writeBytes: number }[]> {
    const byChannel = new Map<
      string,
      { channel: string; valueBytes: number; writeBytes: number }
    >();
    const entry = (channel: string) => {
      const found = byChannel.get(channel) ?? { channel, valueBytes: 0, writeBytes: 0 };
      byChannel.set(channel, found);
      return found;
    };
    for (const row of (
      await this.pool.query<{ channel: string; bytes: string }>(this.#sql.blobBytesPerChannel)
    ).rows) {
      entry(row.channel).valueBytes += Number(row.bytes);
    }
    for (const row of (
      await this.pool.query<{ channel: string; bytes: string }>(this.#sql.writeBytesPerChannel)
    ).rows) {
      entry(row.channel).writeBytes += Number(row.bytes);
    }
    return [...byChannel.values()];
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
