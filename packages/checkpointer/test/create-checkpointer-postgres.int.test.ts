import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { RedactingSerializer } from "@leangraph/serde";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createCheckpointer } from "../src/index.js";
import { LeanPostgresSaver } from "../src/postgres.js";
import { buildChatGraph, chat } from "./fixtures/chat-graph.js";

const unavailable = await postgresOrSkip("the Postgres tests");

describe.skipIf(unavailable !== undefined)(
  `createCheckpointer with LG_CHECKPOINTER=postgres${unavailable ? ` (${unavailable})` : ""}`,
  () => {
    const pool = new pg.Pool({ connectionString: postgresUrl });
    const schemas: string[] = [];
    afterAll(async () => {
      for (const schema of schemas) await dropSchema(schema, pool);
      await pool.end();
    });

    it("builds a migrated LeanPostgresSaver keeping blobs in Postgres by default", async () => {
      const schema = uniqueSchema("create");
      schemas.push(schema);
      const saver = await createCheckpointer({
        env: {
          LG_CHECKPOINTER: "postgres",
          LG_POSTGRES_URL: postgresUrl,
          LG_POSTGRES_SCHEMA: schema,
        },
      });
      try {
        expect(saver).toBeInstanceOf(LeanPostgresSaver);
        expect(saver.serde).toBeInstanceOf(RedactingSerializer);
        const graph = buildChatGraph(saver);
        const config = await chat(graph, "t", 2);
        expect((await graph.getState(config)).values.messages).toHaveLength(4);
        const tables = await pool.query(
          "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1",
          [schema],
        );
        expect(tables.rows.map((row) => row.tablename)).toEqual(
          expect.arrayContaining([
            "lg_blob_parts",
            "lg_blobs",
            "lg_checkpoints",
            "lg_items",
            "lg_writes",
          ]),
        );
        expect((await saver.storageStats()).checkpointCount).toBe(6);
      } finally {
        await saver.close();
      }
    });

    it("hands out the stock PostgresSaver with LG_REDACTING_SERDE=off", async () => {
      const schema = uniqueSchema("create_stock");
      schemas.push(schema);
      const saver = await createCheckpointer({
        env: {
          LG_CHECKPOINTER: "postgres",
          LG_POSTGRES_URL: postgresUrl,
          LG_POSTGRES_SCHEMA: schema,
          LG_REDACTING_SERDE: "off",
        },
      });
      try {
        expect(saver).toBeInstanceOf(PostgresSaver);
        await chat(buildChatGraph(saver), "t", 1);
        const stats = await saver.storageStats();
        expect(stats.checkpointCount).toBe(3);
        expect(stats.dbBytes).toBeGreaterThan(0);
      } finally {
        await saver.close();
      }
    });

    it("fails at start when the server cannot be reached", async () => {
      await expect(
        createCheckpointer({
          env: {
            LG_CHECKPOINTER: "postgres",
            LG_POSTGRES_URL: "postgres://postgres@127.0.0.1:1/none",
          },
        }),
      ).rejects.toThrow();
    });
  },
);
