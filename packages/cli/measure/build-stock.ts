/**
 * Builds a stock database of the append workload in its own process (the stock PostgresSaver
 * needs ~2 GB of heap at 100 steps; the measuring process must not inherit that):
 *   tsx measure/build-stock.ts sqlite <file> <threads> <steps> <fileBytes>
 *   tsx measure/build-stock.ts postgres <url> <schema> <threads> <steps> <fileBytes>
 */
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import pg from "pg";
import { runAppendWorkload } from "../../checkpointer/test/fixtures/append-workload.js";

const [backend, ...rest] = process.argv.slice(2);
const numbers = (texts: string[]) => texts.map(Number) as [number, number, number];

async function fill(
  saver: SqliteSaver | PostgresSaver,
  threads: number,
  steps: number,
  fileBytes: number,
) {
  for (let thread = 0; thread < threads; thread += 1) {
    await runAppendWorkload(saver, { steps, fileBytes, threadId: `append-${thread}` });
  }
}

if (backend === "sqlite") {
  const [path, ...counts] = rest as [string, ...string[]];
  const db = new Database(path);
  await fill(new SqliteSaver(db), ...numbers(counts));
  db.close();
} else {
  const [url, schema, ...counts] = rest as [string, string, ...string[]];
  const pool = new pg.Pool({ connectionString: url });
  const saver = new PostgresSaver(pool, undefined, { schema });
  await saver.setup();
  await fill(saver, ...numbers(counts));
  await pool.end();
}
