import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { sqliteMigrations } from "../src/sqlite/migrations.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { buildChatGraph, chat } from "./fixtures/chat-graph.js";
import { makeTempDir } from "./helpers.js";

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir("space");
});
afterEach(() => {
  temp.remove();
});

function fileBytes(path: string): number {
  const size = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  return size(path) + size(`${path}-wal`);
}

it("gives the file's space back after deleteThread: 100 threads written, 90 deleted", async () => {
  const path = join(temp.dir, "space.sqlite");
  const saver = LeanSqliteSaver.fromConnString(path);
  const graph = buildChatGraph(saver);
  for (let thread = 0; thread < 100; thread += 1) await chat(graph, `thread-${thread}`, 6);
  await saver.gc({ graceMs: 0 });
  const written = fileBytes(path);
  for (let thread = 0; thread < 90; thread += 1) await saver.deleteThread(`thread-${thread}`);
  const afterDelete = fileBytes(path);
  console.log(
    `[space] SQLite file after 100 threads: ${written} bytes; after deleting 90: ${afterDelete} bytes (${((100 * afterDelete) / written).toFixed(1)}%)`,
  );
  // Ten threads' rows remain; without incremental vacuum the file keeps every page it ever had.
  expect(afterDelete).toBeLessThan(written * 0.25);
  const remaining = await graph.getState({ configurable: { thread_id: "thread-95" } });
  expect(remaining.values.messages).toHaveLength(12);
  await saver.close();
});

it("migrates a file without auto_vacuum to incremental vacuum, keeping its data", async () => {
  const path = join(temp.dir, "legacy.sqlite");
  const saver = LeanSqliteSaver.fromConnString(path);
  const graph = buildChatGraph(saver);
  await chat(graph, "kept", 3);
  const before = await graph.getState({ configurable: { thread_id: "kept" } });
  // What a database created before auto_vacuum was set looks like: rebuilt without it, and the
  // migration that switches it marked as not applied.
  saver.db.pragma("auto_vacuum = NONE");
  saver.db.exec("VACUUM");
  const vacuumMigration = sqliteMigrations.findIndex(
    (migration) => typeof migration === "object" && "outsideTransaction" in migration,
  );
  saver.db.prepare("DELETE FROM lg_migrations WHERE v = ?").run(vacuumMigration);
  expect(saver.db.pragma("auto_vacuum", { simple: true })).toBe(0);
  await saver.close();

  const reopened = LeanSqliteSaver.fromConnString(path);
  await reopened.setup();
  expect(reopened.db.pragma("auto_vacuum", { simple: true })).toBe(2);
  const after = await buildChatGraph(reopened).getState({ configurable: { thread_id: "kept" } });
  expect(after.values).toEqual(before.values);
  await reopened.close();
});
