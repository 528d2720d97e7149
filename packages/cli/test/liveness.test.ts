import { join } from "node:path";
import { createFsBlobStore } from "@leangraph/serde";
import { afterAll, describe } from "vitest";
import { openLeanSqlite } from "./fixtures/lean-databases.js";
import { makeTempDir } from "./helpers.js";
import { testLivenessAgreement } from "./liveness-suite.js";

const temp = makeTempDir("liveness");
afterAll(() => temp.remove());

describe("one liveness walk on SQLite with blobs in a directory", () => {
  testLivenessAgreement(async () => {
    const path = join(temp.dir, "chat.sqlite");
    return {
      args: [path],
      openSaver: () => openLeanSqlite(path),
      blobStore: () => createFsBlobStore({ dir: `${path}.blobs` }),
      close: async () => {},
    };
  });
});
