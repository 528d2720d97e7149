/**
 * Every statement the SQLite saver runs, by name (core/sql-row-store.ts runs the shared ones).
 * Lists bind as JSON text read with json_each; statements over many rows (insertItems,
 * deleteCheckpoints, …) run once per row.
 *
 * Item and blob ids (sha256, lower-case hex everywhere above this file) are stored as their 32
 * bytes: half the bytes of 64-hex text in both the table and its primary-key index. They convert
 * here and nowhere else: unhex() on the way in, lower(hex()) on the way out. Postgres keeps them
 * as text (postgres/sql.ts).
 */
export const SQL = {
  migrationApplied: `SELECT 1 FROM lg_migrations WHERE v = ?`,
  newestMigration: `SELECT MAX(v) FROM lg_migrations`,
  recordMigration: `INSERT INTO lg_migrations (v) VALUES (?)`,
  migrationsTableExists: `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lg_migrations'`,

  checkpointById: `SELECT * FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`,
  latestCheckpoint: `SELECT * FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_ns = ?
    ORDER BY checkpoint_id DESC LIMIT 1`,
  upsertCheckpoint: `INSERT OR REPLACE INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id,
    parent_checkpoint_id, checkpoint_type, checkpoint, metadata_type, metadata, channel_refs,
    created_at_ms, blob_refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  // Rows whose metadata is not JSON, or references blobs (a value may stand outside it), are
  // kept for the saver to judge: this narrows, never decides (see ListQuery.metadataEquals).
  metadataEquals: `(CASE WHEN metadata_type = 'json' AND blob_refs IS NULL
    THEN CAST(metadata AS TEXT) -> ? = json(?) ELSE 1 END)`,
  writesOf: `SELECT checkpoint_id, task_id, idx, channel, task_path, value_ref FROM lg_writes
    WHERE thread_id = ? AND checkpoint_ns = ?
      AND checkpoint_id IN (SELECT value FROM json_each(?))`,
  insertWriteKeepFirst: `INSERT OR IGNORE INTO lg_writes (thread_id, checkpoint_ns, checkpoint_id,
    task_id, idx, channel, task_path, value_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  insertWriteReplace: `INSERT OR REPLACE INTO lg_writes (thread_id, checkpoint_ns, checkpoint_id,
    task_id, idx, channel, task_path, value_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,

  insertItems: `INSERT OR IGNORE INTO lg_items (id, kind, in_blob_store, byte_length, body, blob_refs)
    VALUES (unhex(?), ?, ?, ?, ?, ?)`,
  itemBodies: `SELECT lower(hex(id)) AS id, in_blob_store, body FROM lg_items
    WHERE id IN (SELECT unhex(value) FROM json_each(?))`,
  itemMeta: `SELECT lower(hex(id)) AS id, kind, in_blob_store, blob_refs,
    CASE WHEN kind = 'value' THEN NULL ELSE body END AS node_body
    FROM lg_items WHERE id IN (SELECT unhex(value) FROM json_each(?))`,
  existingItemIds: `SELECT lower(hex(id)) AS id FROM lg_items
    WHERE id IN (SELECT unhex(value) FROM json_each(?))`,
  allItems: `SELECT lower(hex(id)) AS id, in_blob_store FROM lg_items`,
  deleteItems: `DELETE FROM lg_items WHERE id IN (SELECT unhex(value) FROM json_each(?))`,
  allChannelRefs: `SELECT channel_refs FROM lg_checkpoints`,
  allRowBlobRefs: `SELECT blob_refs FROM lg_checkpoints WHERE blob_refs IS NOT NULL`,
  allValueRefs: `SELECT value_ref FROM lg_writes`,
  allRetainedRefs: `SELECT value_ref FROM lg_retained_history`,
  retainedRefsOfThread: `SELECT checkpoint_ns, checkpoint_id, channel, seq, value_ref
    FROM lg_retained_history WHERE thread_id = ? ORDER BY checkpoint_ns, checkpoint_id, channel, seq`,

  retainedHistory: `SELECT channel, seq, task_id, value_ref FROM lg_retained_history
    WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?
      AND channel IN (SELECT value FROM json_each(?)) ORDER BY channel, seq`,
  deleteRetainedChannels: `DELETE FROM lg_retained_history
    WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? AND channel = ?`,
  insertRetained: `INSERT INTO lg_retained_history (thread_id, checkpoint_ns, checkpoint_id, channel,
    seq, task_id, value_ref) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  threadIds: `SELECT DISTINCT thread_id FROM lg_checkpoints WHERE thread_id > ?
    ORDER BY thread_id LIMIT ?`,

  deleteThreadCheckpoints: `DELETE FROM lg_checkpoints WHERE thread_id = ?`,
  deleteThreadWrites: `DELETE FROM lg_writes WHERE thread_id = ?`,
  deleteThreadRetained: `DELETE FROM lg_retained_history WHERE thread_id = ?`,
  checkpointPlaces: `SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, created_at_ms
    FROM lg_checkpoints WHERE thread_id = ?`,
  deleteCheckpoints: `DELETE FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`,
  deleteCheckpointWrites: `DELETE FROM lg_writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`,
  dropUnusedRetained: `DELETE FROM lg_retained_history WHERE thread_id = ? AND NOT EXISTS (
    SELECT 1 FROM lg_checkpoints AS c WHERE c.thread_id = lg_retained_history.thread_id
      AND c.checkpoint_ns = lg_retained_history.checkpoint_ns
      AND c.parent_checkpoint_id = lg_retained_history.checkpoint_id)`,
  threadHasCheckpoints: `SELECT 1 FROM lg_checkpoints WHERE thread_id = ? LIMIT 1`,
  copyThreadCheckpoints: `INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id,
    parent_checkpoint_id, checkpoint_type, checkpoint, metadata_type, metadata, channel_refs,
    created_at_ms, blob_refs)
    SELECT ?, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint_type, checkpoint,
      metadata_type, metadata, channel_refs, created_at_ms, blob_refs
    FROM lg_checkpoints WHERE thread_id = ?`,
  copyThreadWrites: `INSERT INTO lg_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx,
    channel, task_path, value_ref)
    SELECT ?, checkpoint_ns, checkpoint_id, task_id, idx, channel, task_path, value_ref
    FROM lg_writes WHERE thread_id = ?`,
  copyThreadRetained: `INSERT INTO lg_retained_history (thread_id, checkpoint_ns, checkpoint_id,
    channel, seq, task_id, value_ref)
    SELECT ?, checkpoint_ns, checkpoint_id, channel, seq, task_id, value_ref
    FROM lg_retained_history WHERE thread_id = ?`,

  insertBlobChildren: `INSERT OR IGNORE INTO lg_blob_children (parent_id, child_ids)
    VALUES (unhex(?), ?)`,
  blobChildren: `SELECT lower(hex(parent_id)) AS parent_id, child_ids FROM lg_blob_children
    WHERE parent_id IN (SELECT unhex(value) FROM json_each(?))`,
  deleteBlobChildren: `DELETE FROM lg_blob_children
    WHERE parent_id IN (SELECT unhex(value) FROM json_each(?))`,

  checkpointCount: `SELECT COUNT(*) AS n FROM lg_checkpoints`,
  largestCheckpointRow: `SELECT COALESCE(MAX(length(CAST(thread_id AS BLOB)) + length(CAST(checkpoint_ns AS BLOB))
    + length(CAST(checkpoint_id AS BLOB)) + COALESCE(length(CAST(parent_checkpoint_id AS BLOB)), 0)
    + length(CAST(checkpoint_type AS BLOB)) + length(checkpoint) + length(CAST(metadata_type AS BLOB))
    + length(metadata) + length(CAST(channel_refs AS BLOB))), 0) AS n FROM lg_checkpoints`,
} as const;
