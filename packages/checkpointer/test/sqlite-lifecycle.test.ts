import { join } from "node:path";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { makeTempDir } from "./helpers.js";
import { describeLifecycle } from "./lifecycle-suite.js";

describeLifecycle("LeanSqliteSaver", async ({ serde }) => {
  const temp = makeTempDir("lifecycle");
  const path = join(temp.dir, "checkpoints.sqlite");
  let saver = LeanSqliteSaver.fromConnString(path, { orphanGraceMs: 0 });
  if (serde) {
    const blobStore = saver.blobStore;
    await saver.close();
    saver = LeanSqliteSaver.fromConnString(path, {
      orphanGraceMs: 0,
      blobStore,
      serde: serde({ blobStore }),
    });
  }
  return {
    saver,
    async itemCount() {
      return (saver.db.prepare("SELECT COUNT(*) AS n FROM lg_items").get() as { n: number }).n;
    },
    async dbItemIds() {
      const rows = saver.db
        .prepare("SELECT id FROM lg_items WHERE in_blob_store = 0 ORDER BY id")
        .all() as { id: string }[];
      return rows.map((row) => row.id);
    },
    async flipItemByte(id, offset) {
      const { body } = saver.db.prepare("SELECT body FROM lg_items WHERE id = ?").get(id) as {
        body: Buffer;
      };
      body[offset] = body[offset]! ^ 1;
      saver.db.prepare("UPDATE lg_items SET body = ? WHERE id = ?").run(body, id);
    },
    async cleanup() {
      await saver.close();
      temp.remove();
    },
  };
});
