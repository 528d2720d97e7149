/*
 * Where leangraph's Postgres tests, consumer apps and reliability scenarios connect, and the
 * schemas they create for themselves and drop. One copy for every package that talks to the real
 * server in its tests (it is never published).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** LG_POSTGRES_URL, else the local server this project's machines run (trust auth). */
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
    // The answer is already decided; a client that never connected may fail to end as well.
    await client.end().catch(() => {});
  }
}

/**
 * For suites that must run wherever CI runs: undefined when Postgres answers. Unreachable under
 * CI=true is a failure (throws); elsewhere it warns that `what` is skipped and returns why, for
 * the caller to skip.
 */
export async function postgresOrSkip(what: string): Promise<string | undefined> {
  const reason = await postgresUnavailableReason();
  if (reason === undefined) return undefined;
  if (process.env.CI === "true") throw new Error(`${reason}; CI=true requires it.`);
  console.warn(`[skip] ${reason}; skipping ${what}. Set LG_POSTGRES_URL to run it.`);
  return reason;
}

/** A schema name no other run uses: `lg_test_<label>_<pid>_<random>`. */
export function uniqueSchema(label: string): string {
  return `lg_test_${label}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Drops `schema` and everything in it, through `pool` or, without one, a short-lived client. */
export async function dropSchema(schema: string, pool?: pg.Pool): Promise<void> {
  const sql = `DROP SCHEMA IF EXISTS "${schema}" CASCADE`;
  if (pool !== undefined) {
    await pool.query(sql);
    return;
  }
  await queryOnce(sql);
}

/** Runs one query on a short-lived client (inspection and set-up, never a saver's own path). */
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
