import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { ItemCache } from "../src/core/read/item-cache.js";
import { VerifiedItemReader } from "../src/core/read/item-reader.js";
import type { RowStore } from "../src/core/row-store.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import {
  buildAppendGraph,
  digestFiles,
  expectedDigest,
  runAppendWorkload,
} from "./fixtures/append-workload.js";
import { makeTempDir } from "./helpers.js";

// 100 KB files are blob-store items: a state of 20 of them is more than the reader keeps in flight.
const fileBytes = 100_000;
const steps = 20;
const temp = makeTempDir("item-reader");
const path = join(temp.dir, "checkpoints.sqlite");
const config = { configurable: { thread_id: "t" } };
afterEach(() => temp.remove());

async function readFiles(): Promise<string[]> {
  // A fresh saver: nothing answers from an earlier read's caches.
  const saver = LeanSqliteSaver.fromConnString(path);
  try {
    return (await buildAppendGraph(saver, fileBytes).getState(config)).values.files as string[];
  } finally {
    await saver.close();
  }
}

it("reads every blob-store item of a state, whichever read ends first, and fails with the missing one named", async () => {
  const writer = LeanSqliteSaver.fromConnString(path);
  await runAppendWorkload(writer, { steps, fileBytes, threadId: "t" });
  const blobItems = writer.db
    .prepare("SELECT lower(hex(id)) FROM lg_items WHERE in_blob_store = 1 ORDER BY id")
    .pluck()
    .all() as string[];
  await writer.close();
  expect(blobItems.length).toBeGreaterThanOrEqual(steps);
  expect(digestFiles(await readFiles())).toBe(expectedDigest(steps, fileBytes));

  const lost = blobItems[Math.floor(blobItems.length / 2)]!;
  rmSync(join(`${path}.blobs`, lost.slice(0, 2), lost.slice(2)));
  const error = await readFiles().then(
    () => undefined,
    (caught: unknown) => caught as { code?: string; message: string },
  );
  expect(error?.code).toBe("ERR_LG_BLOB_MISSING");
  expect(error?.message).toContain(lost);
});

it("hands each body to onItem as it arrives, from the database, the blob store and the cache alike", async () => {
  const saver = LeanSqliteSaver.fromConnString(path);
  try {
    await runAppendWorkload(saver, { steps, fileBytes, threadId: "t" });
    const ids = saver.db.prepare("SELECT lower(hex(id)) FROM lg_items").pluck().all() as string[];
    const places = saver.db
      .prepare("SELECT DISTINCT in_blob_store FROM lg_items")
      .pluck()
      .all() as number[];
    expect(places.sort()).toEqual([0, 1]);
    // The saver's own rows (protected: the reader is an inner part of every saver).
    const { rows } = saver as unknown as { rows: RowStore };
    const reader = new VerifiedItemReader(rows, saver.blobStore, new ItemCache(1 << 26), () =>
      saver.setup(),
    );
    for (const round of ["cold", "from the cache"]) {
      const arrived = new Map<string, Uint8Array>();
      const read = await reader.readItems(ids, round, (id, bytes) => arrived.set(id, bytes));
      expect(arrived.size).toBe(ids.length);
      for (const id of ids) expect(arrived.get(id)).toBe(read.get(id));
    }
  } finally {
    await saver.close();
  }
});
