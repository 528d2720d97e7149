import { LeangraphError } from "@leangraph/serde";
import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { CliErrorCode } from "../errors.js";

/**
 * Database drivers and the stock savers are optional peers of the CLI: a Postgres-only user
 * should not need a C++ toolchain for better-sqlite3, nor a SQLite user pg. Each is loaded when a
 * database of that backend is opened, and a missing one is named.
 */
async function load<T>(packageName: string, purpose: string): Promise<T> {
  try {
    return (await import(packageName)) as T;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      throw new LeangraphError(
        CliErrorCode.driverMissing,
        `${purpose} needs the package ${packageName}, which is not installed.`,
        { cause: error, hint: `npm install ${packageName}` },
      );
    }
    throw error;
  }
}

export async function loadBetterSqlite3(): Promise<typeof BetterSqlite3> {
  return (await load<{ default: typeof BetterSqlite3 }>("better-sqlite3", "A SQLite database"))
    .default;
}

export async function loadPg(): Promise<typeof pg> {
  return (await load<{ default: typeof pg }>("pg", "A Postgres database")).default;
}

export async function loadStockSqliteSaver() {
  return (
    await load<typeof import("@langchain/langgraph-checkpoint-sqlite")>(
      "@langchain/langgraph-checkpoint-sqlite",
      "Reading a stock SqliteSaver database",
    )
  ).SqliteSaver;
}

export async function loadStockPostgresSaver() {
  return (
    await load<typeof import("@langchain/langgraph-checkpoint-postgres")>(
      "@langchain/langgraph-checkpoint-postgres",
      "Reading a stock PostgresSaver database",
    )
  ).PostgresSaver;
}
