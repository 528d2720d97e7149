import type { DatabaseTarget } from "../arguments/database-target.js";
import { openStockPostgresSource } from "./stock-postgres-source.js";
import type { StockSource } from "./stock-source.js";
import { openStockSqliteSource } from "./stock-sqlite-source.js";

export function openStockSource(target: DatabaseTarget): Promise<StockSource> {
  return target.backend === "sqlite"
    ? openStockSqliteSource(target.path)
    : openStockPostgresSource(target.url, target.schema);
}
