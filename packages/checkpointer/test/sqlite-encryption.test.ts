import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  createCompressionLayer,
  createFsBlobStore,
  encryptionLayers,
  keyRingResolver,
} from "@leangraph/serde";
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
  const blobDir = `${path}.blobs`;
  return {
    blobDir,
    async open(encryptionKeys) {
      // Encrypted: compressed, then sealed, as createCheckpointer composes them. Plain: nothing,
      // so the markers can be seen (the check that the scan works).
      const compression = encryptionKeys === undefined ? "off" : "auto";
      // One resolver for blobs and rows, as the saver's own default store shares it.
      const ring = encryptionKeys === undefined ? undefined : keyRingResolver(encryptionKeys);
      const blobStore = createFsBlobStore({
        dir: blobDir,
        layers: [createCompressionLayer(compression), ...encryptionLayers(ring)],
      });
      return LeanSqliteSaver.fromConnString(path, { blobStore, encryptionKeys: ring, compression });
    },
    async rawBytes() {
      const files = [path, `${path}-wal`].filter((file) => existsSync(file));
      if (existsSync(blobDir))
        for (const entry of readdirSync(blobDir, { recursive: true, withFileTypes: true }))
          if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
      return Buffer.concat(files.map((file) => readFileSync(file)));
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
