import { join } from "node:path";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { makeTempDir } from "./helpers.js";
import { describeLifecycle, type LifecycleFactory } from "./lifecycle-suite.js";
import { describeReferenceBehaviour } from "./reference-suite.js";

const create: LifecycleFactory = async ({ serde }) => {
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
  const reopened: LeanSqliteSaver[] = [];
  return {
    saver,
    async reopen(options) {
      const again = LeanSqliteSaver.fromConnString(path, {
        orphanGraceMs: 0,
        blobStore: saver.blobStore,
        ...options,
      });
      reopened.push(again);
      return again;
    },
    async itemCount() {
      return (saver.db.prepare("SELECT COUNT(*) AS n FROM lg_items").get() as { n: number }).n;
    },
    async dbItemIds() {
      const rows = saver.db
        .prepare("SELECT lower(hex(id)) AS id FROM lg_items WHERE in_blob_store = 0 ORDER BY id")
        .all() as { id: string }[];
      return rows.map((row) => row.id);
    },
    async flipItemByte(id, offset) {
      const { body } = saver.db
        .prepare("SELECT body FROM lg_items WHERE id = unhex(?)")
        .get(id) as {
        body: Buffer;
      };
      // Compressed bodies can be shorter than the offset: then flip a byte in their middle.
      const at = Math.min(offset, Math.floor(body.byteLength / 2));
      body[at] = body[at]! ^ 1;
      saver.db.prepare("UPDATE lg_items SET body = ? WHERE id = unhex(?)").run(body, id);
    },
    async cleanup() {
      for (const again of reopened) await again.close();
      await saver.close();
      temp.remove();
    },
  };
};

describeLifecycle("LeanSqliteSaver", create);
describeReferenceBehaviour("LeanSqliteSaver", create);
