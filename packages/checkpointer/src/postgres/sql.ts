import { quotedSchema } from "./identifiers.js";

/** Every statement the Postgres saver runs, by name, for one schema. */
export function postgresSql(schema: string) {
  const s = quotedSchema(schema);
  const checkpointColumns = `thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
    checkpoint_type, checkpoint, metadata_type, metadata, channel_refs, created_at_ms, blob_refs`;
  return {
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    createMigrationsTable: `CREATE TABLE IF NOT EXISTS ${s}.lg_migrations (v INTEGER PRIMARY KEY)`,
    migrationsApplied: `SELECT v FROM ${s}.lg_migrations ORDER BY v`,
    recordMigration: `INSERT INTO ${s}.lg_migrations (v) VALUES ($1) ON CONFLICT DO NOTHING`,
    // One lock key per schema: puts share it, lifecycle operations take it exclusively. BEGIN and
    // the lock travel in one round trip; the key is a literal built from the validated schema name.
    lockExclusive: `SELECT pg_advisory_xact_lock(hashtext($1))`,
    beginShared: `BEGIN; SELECT pg_advisory_xact_lock_shared(hashtext('leangraph:checkpointer:${schema}'))`,
    beginExclusive: `BEGIN; SELECT pg_advisory_xact_lock(hashtext('leangraph:checkpointer:${schema}'))`,

    checkpointById: `SELECT ${checkpointColumns} FROM ${s}.lg_checkpoints
      WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
    latestCheckpoint: `SELECT ${checkpointColumns} FROM ${s}.lg_checkpoints
      WHERE thread_id = $1 AND checkpoint_ns = $2 ORDER BY checkpoint_id DESC LIMIT 1`,
    listCheckpointsFrom: `SELECT ${checkpointColumns} FROM ${s}.lg_checkpoints`,
    /**
     * Metadata key $key equals the JSON scalar $json. Rows whose metadata is not JSON, or
     * references blobs (a value may stand outside it), are kept for the saver to judge; CASE
     * fixes the order, so only JSON metadata is ever converted.
     */
    metadataEquals: (key: number, json: number) => `(CASE WHEN metadata_type = 'json'
      AND blob_refs IS NULL THEN convert_from(metadata, 'UTF8')::jsonb -> $${key}::text = $${json}::jsonb
      ELSE true END)`,
    upsertCheckpoint: `INSERT INTO ${s}.lg_checkpoints (${checkpointColumns})
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
      ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
        parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, checkpoint_type = EXCLUDED.checkpoint_type,
        checkpoint = EXCLUDED.checkpoint, metadata_type = EXCLUDED.metadata_type,
        metadata = EXCLUDED.metadata, channel_refs = EXCLUDED.channel_refs,
        created_at_ms = EXCLUDED.created_at_ms, blob_refs = EXCLUDED.blob_refs`,
    writesOf: `SELECT checkpoint_id, task_id, idx, channel, task_path, value_ref FROM ${s}.lg_writes
      WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = ANY($3::text[])`,
    insertWriteKeepFirst: `INSERT INTO ${s}.lg_writes (thread_id, checkpoint_ns, checkpoint_id, task_id,
      idx, channel, task_path, value_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING`,
    insertWriteReplace: `INSERT INTO ${s}.lg_writes (thread_id, checkpoint_ns, checkpoint_id, task_id,
      idx, channel, task_path, value_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET
        channel = EXCLUDED.channel, task_path = EXCLUDED.task_path, value_ref = EXCLUDED.value_ref`,

    insertItems: `INSERT INTO ${s}.lg_items (id, kind, in_blob_store, byte_length, body, blob_refs)
      SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::integer[], $5::bytea[], $6::text[])
      ON CONFLICT (id) DO NOTHING RETURNING id`,
    itemBodies: `SELECT id, in_blob_store, body FROM ${s}.lg_items WHERE id = ANY($1::text[])`,
    itemMeta: `SELECT id, kind, in_blob_store, blob_refs,
      CASE WHEN kind = 'value' THEN NULL ELSE body END AS node_body
      FROM ${s}.lg_items WHERE id = ANY($1::text[])`,
    existingItemIds: `SELECT id FROM ${s}.lg_items WHERE id = ANY($1::text[])`,
    allItems: `SELECT id, in_blob_store FROM ${s}.lg_items`,
    deleteItems: `DELETE FROM ${s}.lg_items WHERE id = ANY($1::text[])`,
    allChannelRefs: `SELECT channel_refs FROM ${s}.lg_checkpoints`,
    allRowBlobRefs: `SELECT blob_refs FROM ${s}.lg_checkpoints WHERE blob_refs IS NOT NULL`,
    allValueRefs: `SELECT value_ref FROM ${s}.lg_writes`,
    allRetainedRefs: `SELECT value_ref FROM ${s}.lg_retained_history`,
    retainedRefsOfThread: `SELECT checkpoint_ns, checkpoint_id, channel, seq, value_ref
      FROM ${s}.lg_retained_history WHERE thread_id = $1
      ORDER BY checkpoint_ns, checkpoint_id, channel, seq`,

    retainedHistory: `SELECT channel, seq, task_id, value_ref FROM ${s}.lg_retained_history
      WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3 AND channel = ANY($4::text[])
      ORDER BY channel, seq`,
    deleteRetainedChannels: `DELETE FROM ${s}.lg_retained_history
      WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3 AND channel = ANY($4::text[])`,
    insertRetained: `INSERT INTO ${s}.lg_retained_history (thread_id, checkpoint_ns, checkpoint_id,
        channel, seq, task_id, value_ref)
      SELECT $1, $2, $3, * FROM unnest($4::text[], $5::integer[], $6::text[], $7::text[])`,
    threadIds: `SELECT DISTINCT thread_id FROM ${s}.lg_checkpoints WHERE thread_id > $1
      ORDER BY thread_id LIMIT $2`,

    deleteThreadCheckpoints: `DELETE FROM ${s}.lg_checkpoints WHERE thread_id = $1`,
    deleteThreadWrites: `DELETE FROM ${s}.lg_writes WHERE thread_id = $1`,
    deleteThreadRetained: `DELETE FROM ${s}.lg_retained_history WHERE thread_id = $1`,
    checkpointPlaces: `SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, created_at_ms
      FROM ${s}.lg_checkpoints WHERE thread_id = $1`,
    // One statement per table for a whole batch: the keys travel as two parallel arrays.
    deleteCheckpoints: `DELETE FROM ${s}.lg_checkpoints AS c
      USING unnest($2::text[], $3::text[]) AS k(ns, id)
      WHERE c.thread_id = $1 AND c.checkpoint_ns = k.ns AND c.checkpoint_id = k.id`,
    deleteCheckpointWrites: `DELETE FROM ${s}.lg_writes AS w
      USING unnest($2::text[], $3::text[]) AS k(ns, id)
      WHERE w.thread_id = $1 AND w.checkpoint_ns = k.ns AND w.checkpoint_id = k.id`,
    dropUnusedRetained: `DELETE FROM ${s}.lg_retained_history AS r WHERE r.thread_id = $1
      AND NOT EXISTS (SELECT 1 FROM ${s}.lg_checkpoints AS c WHERE c.thread_id = r.thread_id
        AND c.checkpoint_ns = r.checkpoint_ns AND c.parent_checkpoint_id = r.checkpoint_id)`,
    threadHasCheckpoints: `SELECT 1 FROM ${s}.lg_checkpoints WHERE thread_id = $1 LIMIT 1`,
    copyThreadCheckpoints: `INSERT INTO ${s}.lg_checkpoints (${checkpointColumns})
      SELECT $1, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint_type, checkpoint,
        metadata_type, metadata, channel_refs, created_at_ms, blob_refs
      FROM ${s}.lg_checkpoints WHERE thread_id = $2`,
    copyThreadWrites: `INSERT INTO ${s}.lg_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx,
      channel, task_path, value_ref)
      SELECT $1, checkpoint_ns, checkpoint_id, task_id, idx, channel, task_path, value_ref
      FROM ${s}.lg_writes WHERE thread_id = $2`,
    copyThreadRetained: `INSERT INTO ${s}.lg_retained_history (thread_id, checkpoint_ns, checkpoint_id,
        channel, seq, task_id, value_ref)
      SELECT $1, checkpoint_ns, checkpoint_id, channel, seq, task_id, value_ref
      FROM ${s}.lg_retained_history WHERE thread_id = $2`,

    insertBlobChildren: `INSERT INTO ${s}.lg_blob_children (parent_id, child_ids)
      SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT DO NOTHING`,
    blobChildren: `SELECT parent_id, child_ids FROM ${s}.lg_blob_children
      WHERE parent_id = ANY($1::text[])`,
    deleteBlobChildren: `DELETE FROM ${s}.lg_blob_children WHERE parent_id = ANY($1::text[])`,

    checkpointCount: `SELECT COUNT(*)::bigint AS n FROM ${s}.lg_checkpoints`,
    largestCheckpointRow: `SELECT COALESCE(MAX(octet_length(thread_id) + octet_length(checkpoint_ns)
      + octet_length(checkpoint_id) + COALESCE(octet_length(parent_checkpoint_id), 0)
      + octet_length(checkpoint_type) + octet_length(checkpoint) + octet_length(metadata_type)
      + octet_length(metadata) + octet_length(channel_refs)), 0)::bigint AS n FROM ${s}.lg_checkpoints`,
    relationBytes: `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n
      FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname = ANY($2::text[])`,
    vacuumTables: ["lg_checkpoints", "lg_writes", "lg_items", "lg_retained_history"].map(
      (table) => `VACUUM ${s}.${table}`,
    ),
  } as const;
}

export type PostgresSql = ReturnType<typeof postgresSql>;
