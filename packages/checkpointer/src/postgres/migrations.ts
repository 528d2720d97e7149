import type pg from "pg";
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
    // remains (core/delta-history.ts). seq -1 is the seed value; writes follow, oldest first.
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
  ];
}
