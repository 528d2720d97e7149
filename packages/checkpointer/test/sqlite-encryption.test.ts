import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createFsBlobStore } from "@leangraph/serde";
import Database from "better-sqlite3";
import { afterAll } from "vitest";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { testEncryptionAtRest } from "./encryption-suite.js";
import { makeTempDir } from "./helpers.js";

const temp = makeTempDir("sqlite-encryption");
afterAll(() => temp.remove());
let databases = 0;

testEncryptionAtRest("LeanSqliteSaver", async () => {
  databases += 1;
  const path = join(temp.dir, `encrypted-${databases}.sqlite`);
  const blobStore = createFsBlobStore({ dir: `${path}.blobs` });
  return {
    async open(encryptionKeys) {
      return LeanSqliteSaver.fromConnString(path, { blobStore, encryptionKeys });
    },
    async rawBytes() {
      return Buffer.concat(
        [path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file)),
      );
    },
    async query(sql, params = []) {
      const db = new Database(path);
      try {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
        statement.run(...params);
        return [];
      } finally {
        db.close();
      }
    },
  };
});
