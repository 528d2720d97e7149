import Database from "better-sqlite3";
import type { FaultCounter } from "./fault-counter.js";

export type SqliteFaultKind = "SQLITE_IOERR" | "SQLITE_FULL";

const messages: Record<SqliteFaultKind, string> = {
  SQLITE_IOERR: "disk I/O error (injected)",
  SQLITE_FULL: "database or disk is full (injected)",
};

const executing = new Set(["run", "get", "all", "iterate"]);

/**
 * A better-sqlite3 connection whose every statement execution (run/get/all/iterate, exec,
 * pragma) is counted, and whose planned one throws better-sqlite3's own SqliteError with the code
 * SQLite gives an I/O error (EIO) or a full disk (ENOSPC), before it touches the file. Inside
 * `BEGIN IMMEDIATE` … `COMMIT` the failure is a real one of the transaction: the caller must roll
 * back, and what the transaction wrote so far is in SQLite's journal, not yet committed.
 */
export function faultySqliteDatabase(
  db: Database.Database,
  counter: FaultCounter,
  kind: SqliteFaultKind,
): Database.Database {
  const maybeFail = () => {
    if (counter.due()) throw new Database.SqliteError(messages[kind], kind);
  };
  const statementProxy = (statement: Database.Statement): Database.Statement => {
    const proxy: Database.Statement = new Proxy(statement, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        if (executing.has(String(key))) {
          return (...args: unknown[]) => {
            maybeFail();
            return value.apply(target, args);
          };
        }
        // pluck(), raw(), expand() … return the statement itself: keep handing out the proxy.
        return (...args: unknown[]) => {
          const result = value.apply(target, args);
          return result === target ? proxy : result;
        };
      },
    });
    return proxy;
  };
  return new Proxy(db, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      switch (key) {
        case "prepare":
          return (source: string) => statementProxy(target.prepare(source));
        case "exec":
        case "pragma":
          return (...args: unknown[]) => {
            maybeFail();
            return value.apply(target, args);
          };
        default:
          return value.bind(target);
      }
    },
  });
}
