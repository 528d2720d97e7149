import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { afterAll, it } from "vitest";
import { LeanPostgresSaver } from "../src/postgres.js";
import {
  blobDirBytes,
  type EncryptedBackend,
  fsBlobStoreFor,
  testEncryptionAtRest,
} from "./encryption-suite.js";
import { makeTempDir } from "./helpers.js";

const unavailable = await postgresOrSkip("the Postgres tests");

if (unavailable) {
  it.skip(`LeanPostgresSaver encryption at rest: ${unavailable}`, () => {});
} else {
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 8 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema, pool);
    await pool.end();
  });

  const temp = makeTempDir("postgres-encryption");
  afterAll(() => temp.remove());

  /** What a dump holds: `COPY … TO STDOUT` of every table of the schema (blob table included). */
  async function copyOfSchema(schema: string): Promise<Buffer> {
    const { rows } = await pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [schema],
    );
    return Buffer.concat(
      rows.map(({ table_name }) =>
        execFileSync("psql", [
          postgresUrl,
          "-X",
          "-q",
          "-c",
          `COPY "${schema}"."${table_name}" TO STDOUT`,
        ]),
      ),
    );
  }

  function queryIn(schema: string): EncryptedBackend["query"] {
    return async (sql, params = []) => {
      let index = 0;
      const numbered = sql.replace(/\?/g, () => `$${++index}`);
      const client = await pool.connect();
      try {
        await client.query(`SET search_path TO "${schema}"`);
        return (await client.query(numbered, params)).rows;
      } finally {
        // A connection whose search_path could not be reset is discarded, not pooled.
        const failedReset = await client.query("RESET search_path").then(
          () => undefined,
          (error: Error) => error,
        );
        client.release(failedReset);
      }
    };
  }

  // The Postgres saver with blobs in a directory (LG_BLOB_STORE=fs), sealed by the same ring.
  testEncryptionAtRest("LeanPostgresSaver + fs blob store", async () => {
    const schema = uniqueSchema("encrypted_fs");
    schemas.push(schema);
    const blobDir = join(temp.dir, schema);
    return {
      blobDir,
      async open(encryptionKeys) {
        const { blobStore, ring, compression } = fsBlobStoreFor(blobDir, encryptionKeys);
        const saver = new LeanPostgresSaver(pool, {
          schema,
          blobStore,
          encryptionKeys: ring,
          compression,
        });
        await saver.setup();
        return saver;
      },
      async rawBytes() {
        return Buffer.concat([await copyOfSchema(schema), ...blobDirBytes(blobDir)]);
      },
      query: queryIn(schema),
      itemId: { read: "id", bind: "?" },
    };
  });

  testEncryptionAtRest("LeanPostgresSaver", async () => {
    const schema = uniqueSchema("encrypted");
    schemas.push(schema);
    return {
      async open(encryptionKeys) {
        // The saver's own blob table: compressed, then sealed, with keys; plain without, so the
        // markers can be seen (the check that the scan works).
        const compression = encryptionKeys === undefined ? "off" : "auto";
        const saver = new LeanPostgresSaver(pool, { schema, encryptionKeys, compression });
        await saver.setup();
        return saver;
      },
      rawBytes: () => copyOfSchema(schema),
      query: queryIn(schema),
      itemId: { read: "id", bind: "?" },
    };
  });
}
