import { createPostgresBlobStore, LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { type BlobStore, createFsBlobStore, RedactingSerializer } from "@leangraph/serde";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { afterAll, describe } from "vitest";
import { makeTempDir } from "./helpers.js";
import { testLivenessAgreement } from "./liveness-suite.js";

const unavailable = await postgresOrSkip("the Postgres liveness reproduction");

describe.skipIf(unavailable !== undefined)("one liveness walk on Postgres", () => {
  const pool = new pg.Pool({ connectionString: postgresUrl });
  const temp = makeTempDir("liveness-pg");
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema, pool);
    await pool.end();
    temp.remove();
  });

  for (const blobs of ["postgres", "fs"] as const) {
    describe(`blobs in ${blobs === "fs" ? "a directory" : "Postgres"}`, () => {
      testLivenessAgreement(async () => {
        const schema = uniqueSchema(`cli_live_${blobs}`);
        schemas.push(schema);
        const blobDir = `${temp.dir}/${schema}`;
        const blobStore = (): BlobStore =>
          blobs === "fs"
            ? createFsBlobStore({ dir: blobDir })
            : createPostgresBlobStore({ pool, schema });
        return {
          args: [
            postgresUrl,
            "--schema",
            schema,
            ...(blobs === "fs" ? ["--blob-store", "fs", "--blob-dir", blobDir] : []),
          ],
          openSaver: () => {
            const store = blobStore();
            // The pool is the test's: closing a saver must not end it.
            const saver = new LeanPostgresSaver(pool, {
              schema,
              blobStore: store,
              serde: new RedactingSerializer({ blobStore: store }),
            });
            return saver;
          },
          blobStore,
          close: async () => {},
        };
      });
    });
  }
});
