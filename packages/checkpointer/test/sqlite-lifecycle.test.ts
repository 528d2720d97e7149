import { join } from "node:path";
import { LeanSqliteSaver } from "../src/index.js";
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
    async cleanup() {
      await saver.close();
      temp.remove();
    },
  };
});
