import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createCompressionLayer, createFsBlobStore, encryptionLayers } from "@leangraph/serde";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { CheckpointerErrorCode } from "../src/errors.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { blobDirBytes, fsBlobStoreFor, testEncryptionAtRest } from "./encryption-suite.js";
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
    itemId: { read: "lower(hex(id))", bind: "unhex(?)" },
    async open(encryptionKeys) {
      const { blobStore, ring, compression } = fsBlobStoreFor(blobDir, encryptionKeys);
      return LeanSqliteSaver.fromConnString(path, { blobStore, encryptionKeys: ring, compression });
    },
    async rawBytes() {
      const files = [path, `${path}-wal`].filter((file) => existsSync(file));
      return Buffer.concat([...files.map((file) => readFileSync(file)), ...blobDirBytes(blobDir)]);
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

it("refuses a blob store that does not name bodies as the saver does (items live in both)", async () => {
  const keys = [{ id: "k", key: randomBytes(32) }];
  const path = join(temp.dir, "mismatch.sqlite");
  const cases = [
    // Encrypting saver, plain store: its blobs would be plaintext, and named otherwise.
    { encryptionKeys: keys, layers: [createCompressionLayer("auto")] },
    // Plain saver, encrypting store.
    { encryptionKeys: undefined, layers: encryptionLayers(keys) },
    // Both encrypt, under different current keys.
    { encryptionKeys: keys, layers: encryptionLayers([{ id: "other", key: randomBytes(32) }]) },
  ];
  for (const { encryptionKeys, layers } of cases) {
    const blobStore = createFsBlobStore({ dir: `${path}.blobs`, layers });
    const saver = LeanSqliteSaver.fromConnString(path, { blobStore, encryptionKeys });
    await expect(saver.setup()).rejects.toMatchObject({
      code: CheckpointerErrorCode.invalidOption,
    });
    await saver.close();
  }
});
