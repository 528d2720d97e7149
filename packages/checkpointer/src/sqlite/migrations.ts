/**
 * Append-only: the index is the schema version. Never edit or reorder an entry that has shipped;
 * add a new one. `setup()` runs the ones a database has not seen yet, in one transaction each.
 */
export const sqliteMigrations: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS lg_migrations (v INTEGER PRIMARY KEY)`,
  `CREATE TABLE lg_checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    checkpoint_type TEXT NOT NULL,
    checkpoint BLOB NOT NULL,
    metadata_type TEXT NOT NULL,
    metadata BLOB NOT NULL,
    channel_refs TEXT NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
  )`,
  `CREATE TABLE lg_writes (
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
  // Content-addressed: id = sha256 of the bytes. body is NULL when the bytes live in the blob store.
  `CREATE TABLE lg_items (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    in_blob_store INTEGER NOT NULL,
    byte_length INTEGER NOT NULL,
    body BLOB
  )`,
  // Blob ids a RedactingSerializer put inside an item's bytes (JSON array of "<kind>:<id>").
  `ALTER TABLE lg_items ADD COLUMN serde_refs TEXT`,
];
