import { createHash, randomBytes } from "node:crypto";
import { createCompressionLayer } from "@leangraph/serde";
import { testBlobStore } from "@leangraph/serde/testing";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresBlobStore } from "../src/postgres.js";
import { blobStoreMigrations } from "../src/stores/postgres-blob-store.js";

const unavailable = await postgresOrSkip("the Postgres tests");

if (unavailable) {
  it.skip(`Postgres blob store: ${unavailable}`, () => {});
} else {
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  afterAll(() => pool.end());

  // The default page-sized parts, and parts small enough that every blob is only tail pieces.
  // Each also compressed: stored bytes then differ from the plain bytes their id names.
  for (const [chunkBytes, compression] of [
    [undefined, undefined],
    [1000, undefined],
    [undefined, "auto"],
    [1000, "gzip"],
  ] as const) {
    testBlobStore(
      `postgres (chunkBytes ${chunkBytes}, compression ${compression ?? "none"})`,
      async () => {
        const schema = uniqueSchema("blobs");
        const layers = compression ? [createCompressionLayer(compression)] : [];
        const store = createPostgresBlobStore({ pool, schema, chunkBytes, layers });
        const s = `"${schema}"`;
        return {
          store,
          plainView: compression
            ? createPostgresBlobStore({ pool, schema, chunkBytes })
            : undefined,
          tamper: {
            async flipByte(id) {
              await pool.query(
                `UPDATE ${s}.lg_blob_parts SET bytes = set_byte(bytes, 0, (get_byte(bytes, 0) + 1) % 256)
                 WHERE blob_key = (SELECT parts_key FROM ${s}.lg_blobs WHERE id = $1) AND seq = 0`,
                [id],
              );
            },
            async truncate(id) {
              await pool.query(
                `UPDATE ${s}.lg_blob_parts SET bytes = substring(bytes from 1 for greatest(octet_length(bytes) - 1, 0))
                 WHERE (blob_key, seq) = (SELECT blob_key, max(seq) FROM ${s}.lg_blob_parts
                   WHERE blob_key = (SELECT parts_key FROM ${s}.lg_blobs WHERE id = $1) GROUP BY blob_key)`,
                [id],
              );
            },
          },
          cleanup: () => dropSchema(schema, pool),
        };
      },
      { damageable: true, compresses: compression !== undefined },
    );
  }

  describe("postgres blob store chunking", () => {
    async function partLengthsOf(schema: string, id: string): Promise<number[]> {
      const { rows } = await pool.query(
        `SELECT octet_length(bytes) AS n FROM "${schema}".lg_blob_parts
         WHERE blob_key = (SELECT parts_key FROM "${schema}".lg_blobs WHERE id = $1) ORDER BY seq`,
        [id],
      );
      return rows.map((row) => row.n);
    }

    it("splits a blob into ceil(size / chunkBytes) rows and reassembles it, streaming in and out", async () => {
      const schema = uniqueSchema("chunks");
      const store = createPostgresBlobStore({ pool, schema, chunkBytes: 1000 });
      try {
        const bytes = randomBytes(10_500);
        const id = await store.put(bytes);
        expect(await partLengthsOf(schema, id)).toEqual([...Array(10).fill(1000), 500]);
        expect(Buffer.from(await store.get(id)).equals(bytes)).toBe(true);
        async function* pieces() {
          for (let offset = 0; offset < bytes.length; offset += 333)
            yield bytes.subarray(offset, offset + 333);
        }
        const other = randomBytes(2_345);
        async function* otherPieces() {
          yield other.subarray(0, 1_500);
          yield other.subarray(1_500);
        }
        expect((await store.putStream(pieces())).id).toBe(id);
        const streamed = await store.putStream(otherPieces());
        const collected: Uint8Array[] = [];
        for await (const chunk of store.getStream(streamed.id)) collected.push(chunk);
        expect(Buffer.concat(collected).equals(other)).toBe(true);
      } finally {
        await dropSchema(schema, pool);
      }
    });

    it("stores full 8120 B parts one per heap page, then the rest as quarter-page pieces, all un-TOASTed", async () => {
      const schema = uniqueSchema("pages");
      const store = createPostgresBlobStore({ pool, schema });
      try {
        const bytes = randomBytes(200_000);
        const id = await store.put(bytes);
        const expectedLengths = [...Array(24).fill(8120), 1992, 1992, 1136];
        expect(await partLengthsOf(schema, id)).toEqual(expectedLengths);
        const { rows } = await pool.query(
          `SELECT c.reltoastrelid::int AS toast, pg_relation_size(c.oid) AS heap_bytes
           FROM pg_class AS c WHERE c.oid = '"${schema}".lg_blob_parts'::regclass`,
        );
        expect(rows[0].toast).toBe(0);
        // 24 full pages + 1 page for the three tail pieces: the payload fills 97.7 % of the heap.
        expect(Number(rows[0].heap_bytes)).toBe(25 * 8192);
        expect(Buffer.from(await store.get(id)).equals(bytes)).toBe(true);

        // A stream cut into odd pieces gets the same layout as the buffer.
        await store.delete(id);
        async function* pieces() {
          for (let offset = 0; offset < bytes.length; offset += 7_000)
            yield bytes.subarray(offset, offset + 7_000);
        }
        expect((await store.putStream(pieces())).id).toBe(id);
        expect(await partLengthsOf(schema, id)).toEqual(expectedLengths);
      } finally {
        await dropSchema(schema, pool);
      }
    });

    it("rejects a chunkBytes that cannot fit one heap page, naming the option and the range", () => {
      for (const chunkBytes of [0, -1, 1.5, 8121, 4 * 1024 * 1024, Number.NaN]) {
        let error: unknown;
        try {
          createPostgresBlobStore({ pool, schema: "unused", chunkBytes });
        } catch (caught) {
          error = caught;
        }
        expect(error).toMatchObject({ code: "ERR_LG_INVALID_OPTION" });
        expect((error as Error).message).toContain("chunkBytes=");
        expect((error as Error).message).toContain("a whole number of bytes from 1 to 8120");
      }
    });
  });

  describe("postgres blob store, blobs written before page-sized parts (4 MiB chunks)", () => {
    // A schema as the store left it up to migration 2: headers without parts_key, 4 MiB chunks
    // in lg_blob_chunks. setup() then runs the later migrations, which move them into parts.
    async function schemaWithLegacyBlobs(schema: string, blobs: Buffer[]): Promise<string[]> {
      const s = `"${schema}"`;
      await pool.query(`CREATE SCHEMA ${s}`);
      await pool.query(`CREATE TABLE ${s}.lg_blob_store_migrations (v INTEGER PRIMARY KEY)`);
      for (const [version, migration] of blobStoreMigrations(s).slice(0, 3).entries()) {
        await pool.query(migration);
        await pool.query(`INSERT INTO ${s}.lg_blob_store_migrations (v) VALUES ($1)`, [version]);
      }
      const chunkBytes = 4 * 1024 * 1024;
      const ids: string[] = [];
      for (const bytes of blobs) {
        const id = createHash("sha256").update(bytes).digest("hex");
        const chunkCount = Math.max(1, Math.ceil(bytes.length / chunkBytes));
        await pool.query(
          `INSERT INTO ${s}.lg_blobs (id, byte_length, chunk_count, written_at_ms) VALUES ($1, $2, $3, $4)`,
          [id, bytes.length, chunkCount, Date.now()],
        );
        for (let seq = 0; seq < chunkCount; seq += 1)
          await pool.query(
            `INSERT INTO ${s}.lg_blob_chunks (blob_id, seq, bytes) VALUES ($1, $2, $3)`,
            [id, seq, bytes.subarray(seq * chunkBytes, (seq + 1) * chunkBytes)],
          );
        ids.push(id);
      }
      return ids;
    }

    it("moves them into parts on setup, byte for byte, and drops the old table", async () => {
      const schema = uniqueSchema("legacy");
      try {
        const blobs = [randomBytes(9_000_000), randomBytes(10_000), Buffer.alloc(0)];
        const ids = await schemaWithLegacyBlobs(schema, blobs);
        const store = createPostgresBlobStore({ pool, schema });
        await store.setup();
        for (const [index, id] of ids.entries()) {
          expect(Buffer.from(await store.get(id)).equals(blobs[index]!)).toBe(true);
          const streamed: Uint8Array[] = [];
          for await (const chunk of store.getStream(id)) streamed.push(chunk);
          expect(Buffer.concat(streamed).equals(blobs[index]!)).toBe(true);
          expect(await store.stat(id)).toMatchObject({ bytes: blobs[index]!.length });
        }
        const listed: string[] = [];
        for await (const listedId of store.list()) listed.push(listedId);
        expect(listed.sort()).toEqual([...ids].sort());
        const { rows } = await pool.query(
          `SELECT to_regclass($1) IS NULL AS dropped,
             (SELECT max(length(bytes)) FROM "${schema}".lg_blob_parts) AS largest_part,
             (SELECT count(*)::int FROM "${schema}".lg_blobs WHERE parts_key IS NULL) AS unkeyed`,
          [`"${schema}".lg_blob_chunks`],
        );
        expect(rows[0]).toEqual({ dropped: true, largest_part: 8120, unkeyed: 0 });
        expect(await store.delete(ids[1]!)).toBe(true);
        expect(await store.has(ids[1]!)).toBe(false);
      } finally {
        await dropSchema(schema, pool);
      }
    });
  });
}
