import { existsSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { loadBetterSqlite3, loadPg } from "./drivers.js";

/**
 * Read-only SQLite: the connection itself refuses writes, so a source database can never be
 * changed by an import or an inspect, whatever code runs over it (the stock saver included).
 */
export async function openSqliteReadOnly(path: string): Promise<BetterSqlite3.Database> {
  const Database = await loadBetterSqlite3();
  return new Database(path, { readonly: true, fileMustExist: true });
}

export async function openSqliteReadWrite(path: string): Promise<BetterSqlite3.Database> {
  const Database = await loadBetterSqlite3();
  return new Database(path);
}

export function sqliteFileExists(path: string): boolean {
  return existsSync(path);
}

/**
 * A pool whose every transaction is READ ONLY (`default_transaction_read_only`, set per
 * connection at startup): an UPDATE from any code on it fails in the server.
 */
export async function createReadOnlyPool(url: string, max = 2): Promise<pg.Pool> {
  const pg = await loadPg();
  return new pg.Pool({
    connectionString: url,
    max,
    options: "-c default_transaction_read_only=on",
  });
}

export async function createPool(url: string, max = 4): Promise<pg.Pool> {
  const pg = await loadPg();
  return new pg.Pool({ connectionString: url, max });
}
