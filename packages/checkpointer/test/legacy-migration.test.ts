import { cpSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFsBlobStore, RedactingSerializer } from "@leangraph/serde";
import { afterEach, beforeEach, expect, it } from "vitest";
import { LeanSqliteSaver } from "../src/sqlite.js";
import {
  legacyDir,
  legacyExpected,
  legacyLimits,
  readBack,
} from "./fixtures/legacy/legacy-fixtures.js";
import { makeTempDir } from "./helpers.js";

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
