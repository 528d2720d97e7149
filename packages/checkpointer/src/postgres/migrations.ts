import { quotedSchema } from "./identifiers.js";

/**
 * Append-only: the index is the schema version recorded in `lg_migrations`. Never edit or reorder
 * a shipped entry; add a new one.
 */
export function postgresMigrations(schema: string): readonly string[] {
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
  ];
}
