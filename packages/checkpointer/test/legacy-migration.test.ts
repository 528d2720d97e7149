import { cpSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFsBlobStore, RedactingSerializer } from "@leangraph/serde";
import { afterEach, beforeEach, expect, it } from "vitest";
import { checkReferences } from "../src/inspect/index.js";
import { sqliteMigrations } from "../src/sqlite/migrations.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import {
  legacyDir,
  legacyExpected,
  legacyLimits,
  readBack,
} from "./fixtures/legacy/legacy-fixtures.js";
import { expectSchemaTooNew, makeTempDir } from "./helpers.js";

let temp: ReturnType<typeof makeTempDir>;
let path: string;
beforeEach(() => {
  temp = makeTempDir("legacy");
  cpSync(fileURLToPath(legacyDir), temp.dir, { recursive: true });
  path = join(temp.dir, "legacy.sqlite");
});
afterEach(() => temp.remove());

function open() {
  const blobStore = createFsBlobStore({ dir: `${path}.blobs` });
  return LeanSqliteSaver.fromConnString(path, {
    blobStore,
    serde: new RedactingSerializer({ blobStore, ...legacyLimits }),
  });
}

function blobFiles(): string[] {
  return readdirSync(`${path}.blobs`, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

it("migrates a database written by 4a0dddc: every checkpoint reads back identical, and gc keeps every blob it needs", async () => {
  const saver = open();
  expect(await readBack(saver)).toEqual(legacyExpected.sqlite);
  const blobsBefore = blobFiles();
  const report = await saver.gc({ graceMs: 0 });
  expect(report.deletedBlobs).toBe(0);
  expect(blobFiles()).toEqual(blobsBefore);
  expect(await readBack(saver)).toEqual(legacyExpected.sqlite);
  const columns = saver.db.prepare("SELECT name FROM pragma_table_info('lg_items')").pluck().all();
  expect(columns).toContain("blob_refs");
  expect(columns).not.toContain("serde_refs");
  // Writes and retained history were rebuilt keyed by their primary key: no separate autoindex.
  const indexes = saver.db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
    .pluck()
    .all();
  expect(indexes).not.toContain("sqlite_autoindex_lg_writes_1");
  expect(indexes).not.toContain("sqlite_autoindex_lg_retained_history_1");
  expect(saver.db.prepare("SELECT COUNT(*) FROM lg_writes").pluck().get()).toBeGreaterThan(0);
  // Item ids are stored as their 32 bytes.
  expect(
    saver.db
      .prepare("SELECT COUNT(*) FROM lg_items WHERE typeof(id) != 'blob' OR length(id) != 32")
      .pluck()
      .get(),
  ).toBe(0);
  // Deleting a thread now frees exactly what only it used, from recorded references alone.
  await saver.deleteThread("b");
  expect(await readBack(saver)).toEqual({ a: legacyExpected.sqlite.a, b: [] });
  await saver.deleteThread("a");
  // (Blobs without an item row wait out the orphan grace; the copied files are young.)
  await saver.gc({ graceMs: 0 });
  expect(blobFiles()).toEqual([]);
  await saver.close();
});

it("refuses loudly to migrate when a blob it must read is unreadable, and changes nothing it could not finish", async () => {
  const legacy = open();
  const itemInBlobStore = legacy.db
    .prepare("SELECT id FROM lg_items WHERE in_blob_store = 1 ORDER BY id LIMIT 1")
    .pluck()
    .get() as string;
  await legacy.close();
  const blobPath = join(`${path}.blobs`, itemInBlobStore.slice(0, 2), itemInBlobStore.slice(2));
  const kept = join(temp.dir, "kept-blob");
  cpSync(blobPath, kept);
  rmSync(blobPath);

  const saver = open();
  const error = await saver.setup().then(
    () => undefined,
    (caught: unknown) => caught as { code?: string; message: string },
  );
  expect(error?.code).toBe("ERR_LG_CHECKPOINT_MIGRATION_FAILED");
  expect(error?.message).toContain(itemInBlobStore);
  // The backfill's transaction rolled back: nothing recorded, the old references still there.
  expect(
    saver.db.prepare("SELECT COUNT(*) FROM lg_items WHERE blob_refs IS NOT NULL").pluck().get(),
  ).toBe(0);
  expect(
    saver.db.prepare("SELECT COUNT(*) FROM lg_items WHERE serde_refs IS NOT NULL").pluck().get(),
  ).toBeGreaterThan(0);
  await saver.close();

  cpSync(kept, blobPath);
  const repaired = open();
  expect(await readBack(repaired)).toEqual(legacyExpected.sqlite);
  await repaired.close();
});

/**
 * The schema of main before item ids became bytes and writes lost their rowid (c4fb813), as its
 * migrations left it: a database migrated to now, taken back to that schema with its rows as
 * they were, then migrated again.
 */
const schemaBeforeBinaryIds = `
  CREATE TABLE lg_items_text (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, in_blob_store INTEGER NOT NULL,
    byte_length INTEGER NOT NULL, body BLOB, blob_refs TEXT);
  INSERT INTO lg_items_text SELECT lower(hex(id)), kind, in_blob_store, byte_length, body, blob_refs
    FROM lg_items;
  DROP TABLE lg_items;
  ALTER TABLE lg_items_text RENAME TO lg_items;
  CREATE TABLE lg_blob_children_text (parent_id TEXT PRIMARY KEY, child_ids BLOB NOT NULL);
  INSERT INTO lg_blob_children_text SELECT lower(hex(parent_id)), child_ids FROM lg_blob_children;
  DROP TABLE lg_blob_children;
  ALTER TABLE lg_blob_children_text RENAME TO lg_blob_children;
  CREATE TABLE lg_writes_rowid (
    thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '', checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL, idx INTEGER NOT NULL, channel TEXT NOT NULL,
    task_path TEXT NOT NULL DEFAULT '', value_ref TEXT NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx));
  INSERT INTO lg_writes_rowid SELECT * FROM lg_writes;
  DROP TABLE lg_writes;
  ALTER TABLE lg_writes_rowid RENAME TO lg_writes;
  CREATE TABLE lg_retained_history_rowid (
    thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '', checkpoint_id TEXT NOT NULL,
    channel TEXT NOT NULL, seq INTEGER NOT NULL, task_id TEXT NOT NULL, value_ref TEXT NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, channel, seq));
  INSERT INTO lg_retained_history_rowid SELECT * FROM lg_retained_history;
  DROP TABLE lg_retained_history;
  ALTER TABLE lg_retained_history_rowid RENAME TO lg_retained_history;`;

it("migrates a database of the schema before binary item ids: every checkpoint reads back identical, in a new connection too, and gc and the reference check agree", async () => {
  const current = open();
  expect(await readBack(current)).toEqual(legacyExpected.sqlite);
  const childrenRows = current.db.prepare("SELECT COUNT(*) FROM lg_blob_children").pluck().get();
  const itemRows = current.db.prepare("SELECT COUNT(*) FROM lg_items").pluck().get();
  const binaryIdsVersion = sqliteMigrations.length - 2;
  current.db.transaction(() => {
    current.db.exec(schemaBeforeBinaryIds);
    current.db.prepare("DELETE FROM lg_migrations WHERE v >= ?").run(binaryIdsVersion);
  })();
  expect(current.db.prepare("SELECT typeof(id) FROM lg_items LIMIT 1").pluck().get()).toBe("text");
  await current.close();

  const migrated = open();
  expect(await readBack(migrated)).toEqual(legacyExpected.sqlite);
  expect(
    migrated.db.prepare("SELECT COUNT(*) FROM lg_items WHERE length(id) = 32").pluck().get(),
  ).toBe(itemRows);
  expect(
    migrated.db
      .prepare("SELECT COUNT(*) FROM lg_blob_children WHERE length(parent_id) = 32")
      .pluck()
      .get(),
  ).toBe(childrenRows);
  expect((await checkReferences(migrated)).damaged).toEqual([]);
  const blobsBefore = blobFiles();
  const report = await migrated.gc({ graceMs: 0 });
  expect(report.deletedBlobs).toBe(0);
  expect(report.deletedItems).toBe(0);
  expect(blobFiles()).toEqual(blobsBefore);
  await migrated.close();

  const again = open();
  expect(await readBack(again)).toEqual(legacyExpected.sqlite);
  await again.close();
});

it("refuses a database migrated by a newer leangraph, naming both versions, and changes nothing", async () => {
  const current = open();
  expect(await readBack(current)).toEqual(legacyExpected.sqlite);
  const newer = sqliteMigrations.length;
  current.db.prepare("INSERT INTO lg_migrations (v) VALUES (?)").run(newer);
  const itemsBefore = current.db.prepare("SELECT COUNT(*) FROM lg_items").pluck().get();
  await current.close();

  const older = open();
  await expectSchemaTooNew(older.setup(), newer);
  expect(older.db.prepare("SELECT COUNT(*) FROM lg_items").pluck().get()).toBe(itemsBefore);
  await older.close();
});
