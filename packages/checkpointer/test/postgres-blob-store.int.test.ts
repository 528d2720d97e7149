import { randomBytes } from "node:crypto";
import { testBlobStore } from "@leangraph/serde/testing";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresBlobStore } from "../src/index.js";
import {
  dropSchema,
  postgresUnavailableReason,
  postgresUrl,
  uniqueSchema,
} from "./postgres-harness.js";

const unavailable = await postgresUnavailableReason();

if (unavailable) {
  it.skip(`Postgres blob store: ${unavailable}`, () => {});
} else {
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  afterAll(() => pool.end());

  // Small chunks so the suite's 6 MB blob spans many chunk rows, the same code path a blob above
  // bytea's 1 GB limit takes.
  for (const chunkBytes of [4 * 1024 * 1024, 64 * 1024]) {
    testBlobStore(
      `postgres (chunkBytes ${chunkBytes})`,
      async () => {
        const schema = uniqueSchema("blobs");
        const store = createPostgresBlobStore({ pool, schema, chunkBytes });
        const s = `"${schema}"`;
        return {
          store,
          tamper: {
            async flipByte(id) {
              await pool.query(
                `UPDATE ${s}.lg_blob_chunks SET bytes = set_byte(bytes, 0, (get_byte(bytes, 0) + 1) % 256)
                 WHERE blob_id = $1 AND seq = 0`,
                [id],
              );
            },
            async truncate(id) {
              await pool.query(
                `UPDATE ${s}.lg_blob_chunks SET bytes = substring(bytes from 1 for greatest(octet_length(bytes) - 1, 0))
                 WHERE blob_id = $1 AND seq = (SELECT max(seq) FROM ${s}.lg_blob_chunks WHERE blob_id = $1)`,
                [id],
              );
            },
          },
          cleanup: () => dropSchema(pool, schema),
        };
      },
      { damageable: true },
    );
  }

  describe("postgres blob store chunking", () => {
    it("splits a blob into ceil(size / chunkBytes) rows and reassembles it, streaming in and out", async () => {
      const schema = uniqueSchema("chunks");
      const store = createPostgresBlobStore({ pool, schema, chunkBytes: 1000 });
      try {
        const bytes = randomBytes(10_500);
        const id = await store.put(bytes);
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM "${schema}".lg_blob_chunks WHERE blob_id = $1`,
          [id],
        );
        expect(rows[0].n).toBe(11);
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
        await dropSchema(pool, schema);
      }
    });
  });
}
