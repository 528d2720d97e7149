import { randomBytes } from "node:crypto";
import pg from "pg";

/** Where the Postgres tests connect; each run works in schemas of its own and drops them. */
export const postgresUrl =
  process.env.LG_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Undefined when Postgres answers; otherwise why not. Under CI=true an unreachable server is a
 * failure (the suite must run there); elsewhere the caller skips and prints the reason.
 */
export async function postgresUnavailableReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    const reason = `Postgres at ${postgresUrl} is unreachable (${(error as Error).message})`;
    if (process.env.CI === "true") throw new Error(`${reason}; CI=true requires it.`);
    console.warn(`[skip] ${reason}; Postgres tests are skipped. Set LG_POSTGRES_URL to run them.`);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

export function uniqueSchema(label: string): string {
  return `lg_test_${label}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
