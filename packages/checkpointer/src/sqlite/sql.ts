/** Every statement the SQLite saver runs, by name. */
export const SQL = {
  migrationsApplied: `SELECT v FROM lg_migrations ORDER BY v`,
  recordMigration: `INSERT INTO lg_migrations (v) VALUES (?)`,
  migrationsTableExists: `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lg_migrations'`,

  checkpointById: `SELECT * FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`,
  latestCheckpoint: `SELECT * FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_ns = ?
    ORDER BY checkpoint_id DESC LIMIT 1`,
  upsertCheckpoint: `INSERT OR REPLACE INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id,
    parent_checkpoint_id, checkpoint_type, checkpoint, metadata_type, metadata, channel_refs)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  writesOf: `SELECT task_id, idx, channel, task_path, value_ref FROM lg_writes
    WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`,
  insertWriteKeepFirst: `INSERT OR IGNORE INTO lg_writes (thread_id, checkpoint_ns, checkpoint_id,
    task_id, idx, channel, task_path, value_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  insertWriteReplace: `INSERT OR REPLACE INTO lg_writes (thread_id, checkpoint_ns, checkpoint_id,
    task_id, idx, channel, task_path, value_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,

  insertItem: `INSERT OR IGNORE INTO lg_items (id, kind, in_blob_store, byte_length, body, serde_refs)
    VALUES (?, ?, ?, ?, ?, ?)`,
  itemBodies: `SELECT id, in_blob_store, body FROM lg_items WHERE id IN (SELECT value FROM json_each(?))`,
  itemMeta: `SELECT id, kind, in_blob_store, serde_refs,
    CASE WHEN kind = 'value' THEN NULL ELSE body END AS node_body
    FROM lg_items WHERE id IN (SELECT value FROM json_each(?))`,
  existingItemIds: `SELECT id FROM lg_items WHERE id IN (SELECT value FROM json_each(?))`,
  allItems: `SELECT id, in_blob_store FROM lg_items`,
  deleteItems: `DELETE FROM lg_items WHERE id IN (SELECT value FROM json_each(?))`,
  allChannelRefs: `SELECT channel_refs FROM lg_checkpoints`,
  allValueRefs: `SELECT value_ref FROM lg_writes`,

  deleteThreadCheckpoints: `DELETE FROM lg_checkpoints WHERE thread_id = ?`,
  deleteThreadWrites: `DELETE FROM lg_writes WHERE thread_id = ?`,
  pruneCheckpoints: `DELETE FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_id NOT IN (
    SELECT newest.checkpoint_id FROM lg_checkpoints AS newest
    WHERE newest.thread_id = lg_checkpoints.thread_id AND newest.checkpoint_ns = lg_checkpoints.checkpoint_ns
    ORDER BY newest.checkpoint_id DESC LIMIT ?)`,
  pruneOrphanWrites: `DELETE FROM lg_writes WHERE thread_id = ? AND NOT EXISTS (
    SELECT 1 FROM lg_checkpoints AS c WHERE c.thread_id = lg_writes.thread_id
      AND c.checkpoint_ns = lg_writes.checkpoint_ns AND c.checkpoint_id = lg_writes.checkpoint_id)`,
  threadHasCheckpoints: `SELECT 1 FROM lg_checkpoints WHERE thread_id = ? LIMIT 1`,
  copyThreadCheckpoints: `INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id,
    parent_checkpoint_id, checkpoint_type, checkpoint, metadata_type, metadata, channel_refs)
    SELECT ?, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint_type, checkpoint,
      metadata_type, metadata, channel_refs FROM lg_checkpoints WHERE thread_id = ?`,
  copyThreadWrites: `INSERT INTO lg_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx,
    channel, task_path, value_ref)
    SELECT ?, checkpoint_ns, checkpoint_id, task_id, idx, channel, task_path, value_ref
    FROM lg_writes WHERE thread_id = ?`,

  checkpointCount: `SELECT COUNT(*) AS n FROM lg_checkpoints`,
  largestCheckpointRow: `SELECT COALESCE(MAX(length(CAST(thread_id AS BLOB)) + length(CAST(checkpoint_ns AS BLOB))
    + length(CAST(checkpoint_id AS BLOB)) + COALESCE(length(CAST(parent_checkpoint_id AS BLOB)), 0)
    + length(CAST(checkpoint_type AS BLOB)) + length(checkpoint) + length(CAST(metadata_type AS BLOB))
    + length(metadata) + length(CAST(channel_refs AS BLOB))), 0) AS n FROM lg_checkpoints`,
} as const;
