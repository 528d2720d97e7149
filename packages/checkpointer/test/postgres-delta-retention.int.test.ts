import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { it } from "vitest";
import { LeanPostgresSaver } from "../src/postgres.js";
import { testDeltaRetention } from "./delta-retention-suite.js";

const unavailable = await postgresOrSkip("the Postgres tests");
/** See delta-retention.test.ts. */
const turns = Number(process.env.LG_TEST_DELTA_TURNS ?? 100);

if (unavailable) {
  it.skip(`LeanPostgresSaver delta retention: ${unavailable}`, () => {});
} else {
  testDeltaRetention("LeanPostgresSaver", turns, async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    const schema = uniqueSchema("delta_retention");
    const saver = new LeanPostgresSaver(pool, { schema });
    return {
      saver,
      async close() {
        await saver.close();
        await dropSchema(schema, pool);
        await pool.end();
      },
    };
  });
}
