import type Database from "better-sqlite3";
import { type BlobRefsBackfillAccess, backfillBlobRefs } from "../core/blob-refs-backfill.js";
import { type MigrationContext, storedCheckpointCreatedAtMs } from "../core/migration-context.js";

/**
 * A schema change (SQL, run in one transaction), a change computed from stored data (run in one
 * transaction, given the saver's serializer and blob store), or a statement SQLite refuses to run
 * inside a transaction (VACUUM), which must therefore be safe to repeat.
 */
export type SqliteMigration =
  | string
  | { compute: (db: Database.Database, context: MigrationContext) => Promise<void> }
  | { outsideTransaction: (db: Database.Database) => void };

/** Rows read per round of a data migration: bounded memory on a database of any size. */
const migrationPageRows = 500;

/**
 * Append-only: the index is the schema version. Never edit or reorder an entry that has shipped;
 * add a new one. `migrate()` runs the ones a database has not seen yet, in order.
 */
export const sqliteMigrations: readonly SqliteMigration[] = [
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
  // What a prune removed of a delta channel's history, kept for the oldest checkpoint that
  // remains (core/read/delta-history.ts). seq -1 is the seed value; writes follow, oldest first.
  `CREATE TABLE lg_retained_history (
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
    async compute(db, context) {
      db.exec("ALTER TABLE lg_checkpoints ADD COLUMN created_at_ms INTEGER");
      const page = db.prepare(
        `SELECT rowid, checkpoint_type, checkpoint FROM lg_checkpoints WHERE rowid > ?
          ORDER BY rowid LIMIT ${migrationPageRows}`,
      );
      const update = db.prepare("UPDATE lg_checkpoints SET created_at_ms = ? WHERE rowid = ?");
      for (let after = 0; ; ) {
        const rows = page.all(after) as {
          rowid: number;
          checkpoint_type: string;
          checkpoint: Buffer;
        }[];
        if (rows.length === 0) return;
        for (const row of rows) {
          const createdAtMs = await storedCheckpointCreatedAtMs(
            context,
            row.checkpoint_type,
            row.checkpoint,
          );
          update.run(createdAtMs, row.rowid);
        }
        after = rows[rows.length - 1]!.rowid;
      }
    },
  },
  // Deleted rows give their pages back to the file system (PRAGMA incremental_vacuum after each
  // lifecycle delete). New databases are created this way (configureConnection); older ones are
  // rebuilt once, because SQLite can only switch an existing file by a full VACUUM.
  {
    outsideTransaction(db) {
      if (db.memory || db.pragma("auto_vacuum", { simple: true }) === 2) return;
      db.pragma("auto_vacuum = INCREMENTAL");
      db.exec("VACUUM");
    },
  },
  // Which serializer blobs each item and checkpoint row needs, as the serializer reports them:
  // gc then decides liveness from rows alone (core/reachability.ts). serde_refs held what an older
  // version found by scanning bytes, without what JSON blobs reference in turn.
  `ALTER TABLE lg_items ADD COLUMN blob_refs TEXT`,
  `ALTER TABLE lg_checkpoints ADD COLUMN blob_refs TEXT`,
  { compute: (db, context) => backfillBlobRefs(sqliteBackfillAccess(db), context) },
  `ALTER TABLE lg_items DROP COLUMN serde_refs`,
  // Which blobs a blob names (a JSON blob's references, a chunk list's chunks): a fact about the
  // content, recorded once per blob, so rows and items name only what their own bytes reference.
  // One row per blob: its children as 32-byte ids, concatenated (a row per child cost ~300 B).
  `CREATE TABLE lg_blob_children (
    parent_id TEXT PRIMARY KEY,
    child_ids BLOB NOT NULL
  )`,
  // lg_writes and lg_retained_history keyed by their primary key itself (WITHOUT ROWID): a rowid
  // table keeps every key a second time in a separate autoindex (61 KB of a 1.64 MB demo
  // database). Their rows are small (ids and a value reference), the case WITHOUT ROWID is made
  // for. Rebuilt in this one transaction: SQLite cannot change an existing table's kind in place.
  `CREATE TABLE lg_writes_keyed (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    task_path TEXT NOT NULL DEFAULT '',
    value_ref TEXT NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
  ) WITHOUT ROWID;
  INSERT INTO lg_writes_keyed (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel,
    task_path, value_ref)
    SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, task_path, value_ref
    FROM lg_writes;
  DROP TABLE lg_writes;
  ALTER TABLE lg_writes_keyed RENAME TO lg_writes;
  CREATE TABLE lg_retained_history_keyed (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    value_ref TEXT NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, channel, seq)
  ) WITHOUT ROWID;
  INSERT INTO lg_retained_history_keyed (thread_id, checkpoint_ns, checkpoint_id, channel, seq,
    task_id, value_ref)
    SELECT thread_id, checkpoint_ns, checkpoint_id, channel, seq, task_id, value_ref
    FROM lg_retained_history;
  DROP TABLE lg_retained_history;
  ALTER TABLE lg_retained_history_keyed RENAME TO lg_retained_history;`,
  // Item and blob ids as their 32 bytes instead of 64-hex text (sqlite/sql.ts converts at the
  // boundary): the id column and its primary-key index each shrink by half (86 KB + 123 KB of
  // the 1.64 MB demo database were item ids). NOT NULL: unhex() of anything but hex is NULL, and
  // a rowid table would accept a NULL key. lg_items keeps its rowid: its bodies (kilobytes) would
  // spill to overflow pages in a WITHOUT ROWID table at a quarter of the page; lg_blob_children
  // rows are ids only.
  `CREATE TABLE lg_items_binary (
    id BLOB NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    in_blob_store INTEGER NOT NULL,
    byte_length INTEGER NOT NULL,
    body BLOB,
    blob_refs TEXT
  );
  INSERT INTO lg_items_binary (id, kind, in_blob_store, byte_length, body, blob_refs)
    SELECT unhex(id), kind, in_blob_store, byte_length, body, blob_refs FROM lg_items;
  DROP TABLE lg_items;
  ALTER TABLE lg_items_binary RENAME TO lg_items;
  CREATE TABLE lg_blob_children_binary (
    parent_id BLOB NOT NULL PRIMARY KEY,
    child_ids BLOB NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO lg_blob_children_binary (parent_id, child_ids)
    SELECT unhex(parent_id), child_ids FROM lg_blob_children;
  DROP TABLE lg_blob_children;
  ALTER TABLE lg_blob_children_binary RENAME TO lg_blob_children;`,
];

/** backfillBlobRefs over one connection, paging by rowid. */
function sqliteBackfillAccess(db: Database.Database): BlobRefsBackfillAccess {
  return {
    async itemsToScan(after, limit) {
      const rows = db
        .prepare(
          `SELECT id, kind, in_blob_store, body FROM lg_items
           WHERE serde_refs IS NOT NULL AND id > ? ORDER BY id LIMIT ?`,
        )
        .all(after, limit) as {
        id: string;
        kind: string;
        in_blob_store: number;
        body: Buffer | null;
      }[];
      return rows.map((row) => ({
        id: row.id,
        kind: row.kind as "value" | "leaf" | "inner",
        inBlobStore: row.in_blob_store === 1,
        body: row.body,
      }));
    },
    async setItemBlobRefs(id, blobRefs) {
      db.prepare("UPDATE lg_items SET blob_refs = ? WHERE id = ?").run(blobRefs, id);
    },
    async anyItemToScan() {
      return (
        db.prepare("SELECT 1 FROM lg_items WHERE serde_refs IS NOT NULL LIMIT 1").get() !==
        undefined
      );
    },
    async checkpoints(after, limit) {
      const rows = db
        .prepare(
          `SELECT rowid, checkpoint_type, checkpoint, metadata_type, metadata, channel_refs
           FROM lg_checkpoints WHERE rowid > ? ORDER BY rowid LIMIT ?`,
        )
        .all((after as number | undefined) ?? 0, limit) as {
        rowid: number;
        checkpoint_type: string;
        checkpoint: Buffer;
        metadata_type: string;
        metadata: Buffer;
        channel_refs: string;
      }[];
      return rows.map((row) => ({
        key: row.rowid,
        checkpointType: row.checkpoint_type,
        checkpoint: row.checkpoint,
        metadataType: row.metadata_type,
        metadata: row.metadata,
        channelRefs: row.channel_refs,
      }));
    },
    async updateCheckpoint(key, channelRefs, blobRefs) {
      db.prepare("UPDATE lg_checkpoints SET channel_refs = ?, blob_refs = ? WHERE rowid = ?").run(
        channelRefs,
        blobRefs,
        key as number,
      );
    },
    async valueRefRows(after, limit) {
      // Writes first, then retained history rows: one sequence of keys over both tables.
      const [table, lastRowid] = (after as [string, number] | undefined) ?? ["lg_writes", 0];
      const page = (name: string, from: number) =>
        (
          db
            .prepare(`SELECT rowid, value_ref FROM ${name} WHERE rowid > ? ORDER BY rowid LIMIT ?`)
            .all(from, limit) as { rowid: number; value_ref: string }[]
        ).map((row) => ({ key: [name, row.rowid], valueRef: row.value_ref }));
      if (table === "lg_writes") {
        const writes = page("lg_writes", lastRowid);
        if (writes.length > 0) return writes;
        return page("lg_retained_history", 0);
      }
      return page("lg_retained_history", lastRowid);
    },
    async updateValueRef(key, valueRef) {
      const [table, rowid] = key as [string, number];
      db.prepare(`UPDATE ${table} SET value_ref = ? WHERE rowid = ?`).run(valueRef, rowid);
    },
    async insertItem(item) {
      db.prepare(
        `INSERT OR IGNORE INTO lg_items (id, kind, in_blob_store, byte_length, body, blob_refs)
         VALUES (?, ?, 0, ?, ?, ?)`,
      ).run(item.id, item.kind, item.bytes.byteLength, item.bytes, JSON.stringify(item.blobRefs));
    },
  };
}
