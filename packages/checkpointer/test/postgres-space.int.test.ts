import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { expect, it } from "vitest";
import { LeanPostgresSaver } from "../src/postgres.js";
import { buildChatGraph, chat } from "./fixtures/chat-graph.js";

const unavailable = await postgresOrSkip("the Postgres tests");

it.skipIf(unavailable !== undefined)(
  `LeanPostgresSaver tables stop growing over repeated write/prune/delete cycles${unavailable ? `: ${unavailable}` : ""}`,
  async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    const schema = uniqueSchema("space");
    const saver = new LeanPostgresSaver(pool, { schema, orphanGraceMs: 0 });
    const graph = buildChatGraph(saver);
    try {
      const sizes: number[] = [];
      for (let cycle = 0; cycle < 8; cycle += 1) {
        const threads = Array.from({ length: 8 }, (_, index) => `cycle-${cycle}-${index}`);
        for (const thread of threads) await chat(graph, thread, 5);
        await saver.prune(threads, { keepLast: 1 });
        for (const thread of threads.slice(0, 6)) await saver.deleteThread(thread);
        sizes.push((await saver.storageStats()).dbBytes);
      }
      console.log(`[space] Postgres relation bytes after each cycle: ${sizes.join(", ")}`);
      // Every cycle leaves two more one-checkpoint threads; what it deleted is reused by the next
      // cycle's writes instead of growing the tables by a cycle's worth each time.
      const growthPerCycle = (sizes[7]! - sizes[3]!) / 4;
      const firstCycle = sizes[0]!;
      expect(growthPerCycle).toBeLessThan(firstCycle * 0.1);
    } finally {
      await saver.close();
      await dropSchema(schema, pool);
      await pool.end();
    }
  },
);
