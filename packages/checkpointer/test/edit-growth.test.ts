import { join } from "node:path";
import { createCheckpointer } from "../src/index.js";
import { diskUsage } from "../src/inspect/disk-usage.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { testEditLoop } from "./edit-growth-suite.js";
import { makeTempDir } from "./helpers.js";

function sqliteFiles(path: string) {
  return async () => {
    // The saver folds its WAL back once writes pause for 100 ms; give it that pause.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return (await diskUsage([path, `${path}-wal`, `${path}-shm`, `${path}.blobs`])).apparentBytes;
  };
}

testEditLoop("LeanSqliteSaver.fromConnString", async () => {
  const temp = makeTempDir("edit-loop");
  const path = join(temp.dir, "checkpoints.sqlite");
  const saver = LeanSqliteSaver.fromConnString(path);
  return {
    saver,
    bytesOnDisk: sqliteFiles(path),
    async close() {
      await saver.close();
      temp.remove();
    },
  };
});

testEditLoop("createCheckpointer() (SQLite)", async () => {
  const temp = makeTempDir("edit-loop-flags");
  const path = join(temp.dir, "checkpoints.sqlite");
  const saver = await createCheckpointer({ env: { LG_SQLITE_PATH: path } });
  return {
    saver,
    bytesOnDisk: sqliteFiles(path),
    async close() {
      await saver.close();
      temp.remove();
    },
  };
});
