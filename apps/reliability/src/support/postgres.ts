import { randomBytes } from "node:crypto";
import pg from "pg";

/** Where the Postgres scenarios connect; each run creates its own schema and drops it. */
export const postgresUrl =
  process.env.LG_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Undefined when Postgres answers; otherwise why not. */
export async function postgresUnavailableReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return `Postgres at ${postgresUrl} is unreachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

export function uniqueSchema(label: string): string {
  return `lg_rel_${label}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one query on a short-lived client (inspection and tampering, never the saver's own path). */
export async function queryOnce<Row extends pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
