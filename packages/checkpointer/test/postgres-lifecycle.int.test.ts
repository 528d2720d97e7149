import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { it } from "vitest";
import { LeanPostgresSaver } from "../src/postgres.js";
import { describeLifecycle, type LifecycleFactory } from "./lifecycle-suite.js";
import { describeReferenceBehaviour } from "./reference-suite.js";

const unavailable = await postgresOrSkip("the Postgres tests");

if (unavailable) {
  it.skip(`LeanPostgresSaver lifecycle: ${unavailable}`, () => {});
} else {
  const create: LifecycleFactory = async ({ serde }) => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    const schema = uniqueSchema("lifecycle");
    let saver = new LeanPostgresSaver(pool, { schema, orphanGraceMs: 0 });
    if (serde)
      saver = new LeanPostgresSaver(pool, {
        schema,
        orphanGraceMs: 0,
        serde: serde({ blobStore: saver.blobStore }),
        blobStore: saver.blobStore,
      });
    await saver.setup();
    const reopened: LeanPostgresSaver[] = [];
    return {
      saver,
      async reopen(options) {
        const again = new LeanPostgresSaver(pool, {
          schema,
          orphanGraceMs: 0,
          blobStore: saver.blobStore,
          ...options,
        });
        reopened.push(again);
        return again;
      },
      async itemCount() {
        return (await pool.query(`SELECT COUNT(*)::int AS n FROM "${schema}".lg_items`)).rows[0].n;
      },
      async dbItemIds() {
        const result = await pool.query(
          `SELECT id FROM "${schema}".lg_items WHERE NOT in_blob_store ORDER BY id`,
        );
        return result.rows.map((row: { id: string }) => row.id);
      },
      async flipItemByte(id, offset) {
        await pool.query(
          // Compressed bodies can be shorter than the offset: then flip a byte in their middle.
          `UPDATE "${schema}".lg_items
           SET body = set_byte(body, LEAST($2, octet_length(body) / 2), get_byte(body, LEAST($2, octet_length(body) / 2)) # 1)
           WHERE id = $1`,
          [id, offset],
        );
      },
      async cleanup() {
        for (const again of reopened) await again.close();
        await saver.close();
        await dropSchema(schema, pool);
        await pool.end();
      },
    };
  };
  describeLifecycle("LeanPostgresSaver", create);
  describeReferenceBehaviour("LeanPostgresSaver", create);
}
