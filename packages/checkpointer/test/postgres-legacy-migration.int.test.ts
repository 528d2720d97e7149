import { readFileSync } from "node:fs";
import { RedactingSerializer } from "@leangraph/serde";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { postgresMigrations } from "../src/postgres/migrations.js";
import { createPostgresBlobStore, LeanPostgresSaver } from "../src/postgres.js";
import {
  legacyDir,
  legacyExpected,
  legacyLimits,
  readBack,
} from "./fixtures/legacy/legacy-fixtures.js";
import { expectSchemaTooNew } from "./helpers.js";

const unavailable = await postgresOrSkip("the Postgres tests");
let pool: pg.Pool;
let schema: string;

beforeEach(async () => {
  if (unavailable) return;
  pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  schema = uniqueSchema("legacy");
  // pg_dump's psql meta-commands (\restrict …) are not SQL; the rest runs as one script.
  const dump = readFileSync(new URL("legacy-postgres.sql", legacyDir), "utf8")
    .split("\n")
    .filter((line) => !line.startsWith("\\"))
    .join("\n")
    .replaceAll("__LEGACY_SCHEMA__", schema);
  await pool.query(dump);
});
afterEach(async () => {
  if (unavailable) return;
  await dropSchema(schema, pool);
  await pool.end();
});

function open() {
  const blobStore = createPostgresBlobStore({ pool, schema });
  return new LeanPostgresSaver(pool, {
    schema,
    blobStore,
    serde: new RedactingSerializer({ blobStore, ...legacyLimits }),
  });
}

async function blobCount(): Promise<number> {
  return (await pool.query(`SELECT COUNT(*)::int AS n FROM "${schema}".lg_blobs`)).rows[0].n;
}

it.skipIf(unavailable !== undefined)(
  `migrates a Postgres schema written by 4a0dddc: identical reads, gc keeps every blob it needs${unavailable ? `: ${unavailable}` : ""}`,
  async () => {
    const saver = open();
    expect(await readBack(saver)).toEqual(legacyExpected.postgres);
    const blobsBefore = await blobCount();
    expect((await saver.gc({ graceMs: 0 })).deletedBlobs).toBe(0);
    expect(await blobCount()).toBe(blobsBefore);
    expect(await readBack(saver)).toEqual(legacyExpected.postgres);
    await saver.deleteThread("b");
    await saver.deleteThread("a");
    await saver.gc({ graceMs: 0 });
    expect(await blobCount()).toBe(0);
    await saver.close();
  },
);

it.skipIf(unavailable !== undefined)(
  `refuses loudly to migrate when a blob it must read is unreadable, and rolls everything back${unavailable ? `: ${unavailable}` : ""}`,
  async () => {
    const versionsBefore = await pool.query(`SELECT v FROM "${schema}".lg_migrations ORDER BY v`);
    const itemInBlobStore = (
      await pool.query(
        `SELECT id FROM "${schema}".lg_items WHERE in_blob_store ORDER BY id LIMIT 1`,
      )
    ).rows[0].id as string;
    const header = await pool.query(`SELECT * FROM "${schema}".lg_blobs WHERE id = $1`, [
      itemInBlobStore,
    ]);
    await pool.query(`DELETE FROM "${schema}".lg_blobs WHERE id = $1`, [itemInBlobStore]);

    const saver = open();
    const error = await saver.setup().then(
      () => undefined,
      (caught: unknown) => caught as { code?: string; message: string },
    );
    expect(error?.code).toBe("ERR_LG_CHECKPOINT_MIGRATION_FAILED");
    expect(error?.message).toContain(itemInBlobStore);
    const versionsAfter = await pool.query(`SELECT v FROM "${schema}".lg_migrations ORDER BY v`);
    expect(versionsAfter.rows).toEqual(versionsBefore.rows);

    const { id, byte_length, chunk_count, written_at_ms, parts_key } = header.rows[0];
    await pool.query(
      `INSERT INTO "${schema}".lg_blobs (id, byte_length, chunk_count, written_at_ms, parts_key)
       VALUES ($1, $2, $3, $4, $5)`,
      [id, byte_length, chunk_count, written_at_ms, parts_key],
    );
    expect(await readBack(saver)).toEqual(legacyExpected.postgres);
    await saver.close();
  },
);

it.skipIf(unavailable !== undefined)(
  `refuses a schema migrated by a newer leangraph, naming both versions${unavailable ? `: ${unavailable}` : ""}`,
  async () => {
    const current = open();
    await current.setup();
    const newer = postgresMigrations(schema).length;
    await pool.query(`INSERT INTO "${schema}".lg_migrations (v) VALUES ($1)`, [newer]);
    const older = open();
    await expectSchemaTooNew(older.setup(), newer);
    await current.close();
    await older.close();
  },
);
