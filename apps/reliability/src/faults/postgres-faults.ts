import type pg from "pg";
import type { FaultCounter } from "./fault-counter.js";

export type PostgresFaultKind = "connection_lost" | "disk_full";

/** Raised by the server itself, so the transaction it hits is aborted as by a real full disk. */
const diskFullStatement =
  "DO $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (injected)' USING ERRCODE = 'disk_full'; END $$";

/**
 * A pg Pool whose every query (on the pool or on a client it hands out) is counted; the planned
 * one fails for real: `disk_full` sends a statement the server rejects with SQLSTATE 53100 in
 * place of the query (aborting the transaction it is in), `connection_lost` has `admin` terminate
 * the client's backend first (pg_terminate_backend, waiting until it is gone) and then sends the
 * query down the dead connection, as when the server restarts mid-transaction.
 */
export function faultyPool(
  pool: pg.Pool,
  counter: FaultCounter,
  kind: PostgresFaultKind,
  admin: pg.Client,
): pg.Pool {
  const quieted = new WeakSet<pg.PoolClient>();
  const clientProxy = (client: pg.PoolClient): pg.PoolClient => {
    // A terminated backend also surfaces as an 'error' event; without a listener it would
    // crash the process instead of failing the query.
    if (!quieted.has(client)) {
      client.on("error", () => {});
      quieted.add(client);
    }
    return new Proxy(client, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key !== "query") return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          if (counter.due()) {
            if (kind === "disk_full") return target.query(diskFullStatement);
            await admin.query("SELECT pg_terminate_backend($1, 5000)", [
              (target as unknown as { processID: number }).processID,
            ]);
          }
          return (target.query as (...params: unknown[]) => Promise<unknown>)(...args);
        };
      },
    });
  };
  const connect = async () => clientProxy(await pool.connect());
  return new Proxy(pool, {
    get(target, key) {
      if (key === "connect") return connect;
      if (key === "query") {
        // pool.query on a client of its own, so a fault can name that client's backend.
        return async (...args: unknown[]) => {
          const client = await connect();
          try {
            const result = await (client.query as (...params: unknown[]) => Promise<unknown>)(
              ...args,
            );
            client.release();
            return result;
          } catch (error) {
            client.release(error as Error);
            throw error;
          }
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
