import type pg from "pg";
import { type BlobRefsBackfillAccess, backfillBlobRefs } from "../core/blob-refs-backfill.js";
import { type MigrationContext, storedCheckpointCreatedAtMs } from "../core/migration-context.js";
import { quotedSchema } from "./identifiers.js";

/** A schema change (SQL), or a change computed from stored data; both run in the migration's transaction. */
export type PostgresMigration =
  | string
  | { compute: (client: pg.PoolClient, context: MigrationContext) => Promise<void> };

/** Rows read per round of a data migration: bounded memory on a database of any size. */
const migrationPageRows = 500;

/**
 * Append-only: the index is the schema version recorded in `lg_migrations`. Never edit or reorder
 * a shipped entry; add a new one.
 */
export function postgresMigrations(schema: string): readonly PostgresMigration[] {
  const s = quotedSchema(schema);
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.lg_migrations (v INTEGER PRIMARY KEY)`,
    `CREATE TABLE ${s}.lg_checkpoints (
      thread_id TEXT NOT NULL,
      checkpoint_ns TEXT NOT NULL DEFAULT '',
      checkpoint_id TEXT NOT NULL,
      parent_checkpoint_id TEXT,
      checkpoint_type TEXT NOT NULL,
      checkpoint BYTEA NOT NULL,
      metadata_type TEXT NOT NULL,
      metadata BYTEA NOT NULL,
      channel_refs TEXT NOT NULL,
      PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
    )`,
    `CREATE TABLE ${s}.lg_writes (
      thread_id TEXT NOT NULL,
      checkpoint_ns TEXT NOT NULL DEFAULT '',
      checkpoint_id TEXT NOT NULL,
      task_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      channel TEXT NOT NULL,
      task_path TEXT NOT NULL DEFAULT '',
      value_ref TEXT NOT NULL,
      PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    )`,
    // Content-addressed: id = sha256 of the bytes; body is NULL when they live in the blob store.
    `CREATE TABLE ${s}.lg_items (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      in_blob_store BOOLEAN NOT NULL,
      byte_length INTEGER NOT NULL,
      body BYTEA
    )`,
    // Blob ids a RedactingSerializer put inside an item's bytes (JSON array of "<kind>:<id>").
    `ALTER TABLE ${s}.lg_items ADD COLUMN serde_refs TEXT`,
    // Item bodies are mostly 0.3-4 KiB tree nodes. By default every row above ~2 KiB goes out of
    // line into TOAST (2 KB chunks plus their own index); rows up to a whole page stay inline.
    `ALTER TABLE ${s}.lg_items SET (toast_tuple_target = 8160)`,
    // What a prune removed of a delta channel's history, kept for the oldest checkpoint that
    // remains (core/read/delta-history.ts). seq -1 is the seed value; writes follow, oldest first.
    `CREATE TABLE ${s}.lg_retained_history (
      thread_id TEXT NOT NULL,
      checkpoint_ns TEXT NOT NULL DEFAULT '',
      checkpoint_id TEXT NOT NULL,
      channel TEXT NOT NULL,
      seq INTEGER NOT NULL,
      task_id TEXT NOT NULL,
      value_ref TEXT NOT NULL,
      PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, channel, seq)
    )`,
    // The checkpoint's own ts, so age-based retention selects rows without decoding any.
    {
      async compute(client, context) {
        await client.query(`ALTER TABLE ${s}.lg_checkpoints ADD COLUMN created_at_ms BIGINT`);
        for (let after: string[] = ["", "", ""]; ; ) {
          const { rows } = await client.query<{
            thread_id: string;
            checkpoint_ns: string;
            checkpoint_id: string;
            checkpoint_type: string;
            checkpoint: Buffer;
          }>(
            `SELECT thread_id, checkpoint_ns, checkpoint_id, checkpoint_type, checkpoint
             FROM ${s}.lg_checkpoints WHERE (thread_id, checkpoint_ns, checkpoint_id) > ($1, $2, $3)
             ORDER BY thread_id, checkpoint_ns, checkpoint_id LIMIT ${migrationPageRows}`,
            after,
          );
          if (rows.length === 0) return;
          for (const row of rows) {
            const createdAtMs = await storedCheckpointCreatedAtMs(
              context,
              row.checkpoint_type,
              row.checkpoint,
            );
            await client.query(
              `UPDATE ${s}.lg_checkpoints SET created_at_ms = $4
               WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
              [row.thread_id, row.checkpoint_ns, row.checkpoint_id, createdAtMs],
            );
          }
          const last = rows[rows.length - 1]!;
          after = [last.thread_id, last.checkpoint_ns, last.checkpoint_id];
        }
      },
    },
    // Which serializer blobs each item and checkpoint row needs, as the serializer reports them:
    // gc then decides liveness from rows alone (core/reachability.ts). serde_refs held what an
    // older version found by scanning bytes, without what JSON blobs reference in turn.
    `ALTER TABLE ${s}.lg_items ADD COLUMN blob_refs TEXT`,
    `ALTER TABLE ${s}.lg_checkpoints ADD COLUMN blob_refs TEXT`,
    { compute: (client, context) => backfillBlobRefs(postgresBackfillAccess(client, s), context) },
    `ALTER TABLE ${s}.lg_items DROP COLUMN serde_refs`,
    // Which blobs a blob names (a JSON blob's references, a chunk list's chunks): a fact about
    // the content, recorded once per blob, so rows and items name only their own bytes' blobs.
    // One row per blob: its children as 32-byte ids, concatenated (a row per child cost ~300 B).
    `CREATE TABLE ${s}.lg_blob_children (
      parent_id TEXT PRIMARY KEY,
      child_ids BYTEA NOT NULL
    )`,
  ];
}

/** backfillBlobRefs in the migration's transaction, paging by primary key. */
function postgresBackfillAccess(client: pg.PoolClient, s: string): BlobRefsBackfillAccess {
  const checkpointKey = ["thread_id", "checkpoint_ns", "checkpoint_id"];
  const writeKey = [...checkpointKey, "task_id", "idx"];
  const retainedKey = [...checkpointKey, "channel", "seq"];
  /** `(a, b) > ($1, $2)`: keyset pagination over a composite key. */
  const after = (columns: string[]) =>
    `(${columns.join(", ")}) > (${columns.map((_, index) => `$${index + 1}`).join(", ")})`;
  const matches = (columns: string[], offset: number) =>
    columns.map((column, index) => `${column} = $${index + offset}`).join(" AND ");
  const keyOf = (row: Record<string, unknown>, columns: string[]) =>
    columns.map((column) => row[column]);
  return {
    async itemsToScan(afterId, limit) {
      const { rows } = await client.query<{
        id: string;
        kind: "value" | "leaf" | "inner";
        in_blob_store: boolean;
        body: Buffer | null;
      }>(
        `SELECT id, kind, in_blob_store, body FROM ${s}.lg_items
         WHERE serde_refs IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((row) => ({
        id: row.id,
        kind: row.kind,
        inBlobStore: row.in_blob_store,
        body: row.body,
      }));
    },
    async setItemBlobRefs(id, blobRefs) {
      await client.query(`UPDATE ${s}.lg_items SET blob_refs = $2 WHERE id = $1`, [id, blobRefs]);
    },
    async anyItemToScan() {
      const { rows } = await client.query(
        `SELECT 1 FROM ${s}.lg_items WHERE serde_refs IS NOT NULL LIMIT 1`,
      );
      return rows.length > 0;
    },
    async checkpoints(afterKey, limit) {
      const key = (afterKey as unknown[] | undefined) ?? ["", "", ""];
      const { rows } = await client.query(
        `SELECT ${checkpointKey.join(", ")}, checkpoint_type, checkpoint, metadata_type, metadata,
           channel_refs FROM ${s}.lg_checkpoints WHERE ${after(checkpointKey)}
         ORDER BY ${checkpointKey.join(", ")} LIMIT ${Number(limit)}`,
        key,
      );
      return rows.map((row) => ({
        key: keyOf(row, checkpointKey),
        checkpointType: row.checkpoint_type as string,
        checkpoint: row.checkpoint as Buffer,
        metadataType: row.metadata_type as string,
        metadata: row.metadata as Buffer,
        channelRefs: row.channel_refs as string,
      }));
    },
    async updateCheckpoint(key, channelRefs, blobRefs) {
      await client.query(
        `UPDATE ${s}.lg_checkpoints SET channel_refs = $4, blob_refs = $5
         WHERE ${matches(checkpointKey, 1)}`,
        [...(key as unknown[]), channelRefs, blobRefs],
      );
    },
    async valueRefRows(afterKey, limit) {
      // Writes first, then retained history rows: one sequence of keys over both tables.
      const [table, last] = (afterKey as [string, unknown[] | undefined] | undefined) ?? [
        "lg_writes",
        undefined,
      ];
      const page = async (name: string, columns: string[], from: unknown[] | undefined) => {
        const start =
          from ??
          columns.map((column) => (column === "idx" || column === "seq" ? -2_147_483_648 : ""));
        const { rows } = await client.query(
          `SELECT ${columns.join(", ")}, value_ref FROM ${s}.${name} WHERE ${after(columns)}
           ORDER BY ${columns.join(", ")} LIMIT ${Number(limit)}`,
          start,
        );
        return rows.map((row) => ({
          key: [name, keyOf(row, columns)],
          valueRef: row.value_ref as string,
        }));
      };
      if (table === "lg_writes") {
        const writes = await page("lg_writes", writeKey, last);
        if (writes.length > 0) return writes;
        return page("lg_retained_history", retainedKey, undefined);
      }
      return page("lg_retained_history", retainedKey, last);
    },
    async updateValueRef(key, valueRef) {
      const [table, values] = key as [string, unknown[]];
      const columns = table === "lg_writes" ? writeKey : retainedKey;
      await client.query(
        `UPDATE ${s}.${table} SET value_ref = $${columns.length + 1} WHERE ${matches(columns, 1)}`,
        [...values, valueRef],
      );
    },
    async insertItem(item) {
      await client.query(
        `INSERT INTO ${s}.lg_items (id, kind, in_blob_store, byte_length, body, blob_refs)
         VALUES ($1, $2, false, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [
          item.id,
          item.kind,
          item.bytes.byteLength,
          Buffer.from(item.bytes),
          JSON.stringify(item.blobRefs),
        ],
      );
    },
  };
}
