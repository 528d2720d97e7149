import { randomBytes } from "node:crypto";
import { deltaChannelHistoryTests, validate } from "@langchain/langgraph-checkpoint-validation";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { it } from "vitest";
import { LeanPostgresSaver } from "../src/postgres.js";

const unavailable = await postgresOrSkip("the Postgres tests");

if (unavailable) {
  it.skip(`LeanPostgresSaver conformance with encryption: ${unavailable}`, () => {});
} else {
  // One pool for the run; every checkpointer the suite asks for gets a fresh schema (some list
  // tests expect to see exactly what they stored), dropped when the suite destroys it.
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 8 });
  const schemas = new WeakMap<LeanPostgresSaver, string>();
  const encryptionKeys = [{ id: "suite", key: randomBytes(32) }];

  const initializer = {
    checkpointerName: "@leangraph/checkpointer:LeanPostgresSaver (encrypted)",
    async createCheckpointer() {
      const schema = uniqueSchema("enc_validation");
      const saver = new LeanPostgresSaver(pool, { schema, encryptionKeys });
      await saver.setup();
      schemas.set(saver, schema);
      return saver;
    },
    async destroyCheckpointer(saver: LeanPostgresSaver) {
      await saver.close();
      await dropSchema(schemas.get(saver)!, pool);
    },
    async afterAll() {
      await pool.end();
    },
  };

  validate(initializer);
  deltaChannelHistoryTests(initializer);
}
