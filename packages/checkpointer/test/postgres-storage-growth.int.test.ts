import { join } from "node:path";
import { createFsBlobStore } from "@leangraph/serde";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { diskUsage, LeanPostgresSaver } from "../src/index.js";
import { digestFiles, expectedDigest, runAppendWorkload } from "./fixtures/append-workload.js";
import { makeTempDir } from "./helpers.js";
import {
  dropSchema,
  postgresUnavailableReason,
  postgresUrl,
  uniqueSchema,
} from "./postgres-harness.js";

const unavailable = await postgresUnavailableReason();
const fileBytes = 200_000;
const steps = 100;

// The issue's workload on Postgres, both blob stores. Bytes on disk = pg_total_relation_size of
// every table in the run's schema (heap, TOAST, indexes, free-space maps) + blob files.
describe.skipIf(unavailable !== undefined)(
  `LeanPostgresSaver on the append workload, ${steps} steps${unavailable ? ` (${unavailable})` : ""}`,
  () => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    const temp = makeTempDir("pg-growth");
    const schemas: string[] = [];
    afterAll(async () => {
      for (const schema of schemas) await dropSchema(pool, schema);
      await pool.end();
      temp.remove();
    });

    async function relationBytes(schema: string): Promise<number> {
      const { rows } = await pool.query(
        `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class AS c
       JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [schema],
      );
      return Number(rows[0].n);
    }

    it.each([
      // Postgres stores each blob as TOAST chunks of ~2 KB, 4 per 8 KB page, plus their index: a
      // fixed ~4 % on top of the payload, so this variant's bound is looser than the files one.
      ["blobs in Postgres", "postgres", 1.1],
      ["blobs as files (LG_BLOB_STORE=fs)", "fs", 1.05],
    ] as const)(
      "%s: grows with unique bytes, rows <= 4 KB, identical state",
      async (_label, store, bound) => {
        const schema = uniqueSchema(`growth_${store}`);
        schemas.push(schema);
        const blobDir = join(temp.dir, schema);
        const saver = new LeanPostgresSaver(pool, {
          schema,
          ...(store === "fs" ? { blobStore: createFsBlobStore({ dir: blobDir }) } : {}),
        });
        await saver.setup();
        const { graph, config } = await runAppendWorkload(saver, {
          steps,
          fileBytes,
          threadId: "append",
        });
        expect(digestFiles((await graph.getState(config)).values.files)).toBe(
          expectedDigest(steps, fileBytes),
        );
        const onDisk = (await relationBytes(schema)) + (await diskUsage([blobDir])).apparentBytes;
        const stats = await saver.storageStats();
        console.info(
          `[storage] LeanPostgresSaver (${store}) ${steps} steps: ${onDisk} B = ${(onDisk / (steps * fileBytes)).toFixed(3)}x unique`,
        );
        expect(onDisk).toBeLessThanOrEqual(bound * steps * fileBytes);
        expect(stats.largestCheckpointRowBytes).toBeLessThanOrEqual(4096);
        expect(stats.blobCount).toBe(steps);
        await saver.close();
      },
    );
  },
);
