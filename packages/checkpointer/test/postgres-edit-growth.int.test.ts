import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { it } from "vitest";
import { createCheckpointer } from "../src/index.js";
import { diskUsage } from "../src/inspect/disk-usage.js";
import { LeanPostgresSaver } from "../src/postgres.js";
import { testEditLoop } from "./edit-growth-suite.js";
import { makeTempDir } from "./helpers.js";

const unavailable = await postgresOrSkip("the Postgres tests");

async function relationBytes(pool: pg.Pool, schema: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class AS c
     JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [schema],
  );
  return Number(rows[0]?.n ?? 0);
}

if (unavailable) {
  it.skip(`LeanPostgresSaver edit loop: ${unavailable}`, () => {});
} else {
  testEditLoop("LeanPostgresSaver.fromConnString (blobs in Postgres)", async () => {
    const schema = uniqueSchema("edit_loop");
    const saver = LeanPostgresSaver.fromConnString(postgresUrl, { schema });
    await saver.setup();
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
    return {
      saver,
      bytesOnDisk: () => relationBytes(pool, schema),
      async close() {
        await saver.close();
        await dropSchema(schema, pool);
        await pool.end();
      },
    };
  });

  testEditLoop("createCheckpointer() (Postgres, LG_BLOB_STORE=fs)", async () => {
    const schema = uniqueSchema("edit_loop_fs");
    const temp = makeTempDir("edit-loop-pg-fs");
    const saver = await createCheckpointer({
      env: {
        LG_CHECKPOINTER: "postgres",
        LG_POSTGRES_URL: postgresUrl,
        LG_POSTGRES_SCHEMA: schema,
        LG_BLOB_STORE: "fs",
        LG_BLOB_DIR: temp.dir,
      },
    });
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
    return {
      saver,
      bytesOnDisk: async () =>
        (await relationBytes(pool, schema)) + (await diskUsage([temp.dir])).apparentBytes,
      async close() {
        await saver.close();
        await dropSchema(schema, pool);
        await pool.end();
        temp.remove();
      },
    };
  });
}
