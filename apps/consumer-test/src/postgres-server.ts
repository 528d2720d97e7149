import { randomBytes } from "node:crypto";
import pg from "pg";

/** Where the Postgres consumer connects; it works in a schema of its own and drops it. */
export const postgresUrl =
  process.env.LG_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Undefined when Postgres answers; otherwise why not. Under CI=true an unreachable server is a
 * failure (the consumer must run there); elsewhere the caller skips and prints the reason.
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
    console.warn(`[skip] ${reason}; the Postgres-only consumer is skipped. Set LG_POSTGRES_URL.`);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

export function uniqueSchema(): string {
  return `lg_consumer_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** The app drops its schema itself; this is the safety net when it died before it could. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
