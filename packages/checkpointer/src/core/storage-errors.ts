import { type BlobStore, LeangraphError, SerdeErrorCode } from "@leangraph/serde";
import { CheckpointerErrorCode } from "../errors.js";
import type { RowStore, RowWriteTransaction } from "./row-store.js";

/**
 * Every error leaves leangraph with a code. A database driver's own errors (SQLITE_IOERR, a
 * dropped Postgres connection, a full disk) become ERR_LG_CHECKPOINT_STORAGE_FAILED, with the
 * driver's error as `cause`, at the one boundary where they can arise: these layers over the row
 * store and the Postgres blob store. Errors that already carry a code pass through unchanged.
 */
function storageFailed(operation: string, error: unknown): LeangraphError {
  return new LeangraphError(
    CheckpointerErrorCode.storageFailed,
    `The database failed during ${operation}: ${(error as Error)?.message ?? String(error)}`,
    {
      cause: error,
      hint: "Nothing was committed by the failed operation; check the database (disk space, connection) and retry.",
    },
  );
}

function coded(operation: string, error: unknown): unknown {
  return error instanceof LeangraphError ? error : storageFailed(operation, error);
}

function guardTransaction(tx: RowWriteTransaction): RowWriteTransaction {
  const guarded = {} as Record<string, unknown>;
  for (const [name, method] of Object.entries(tx) as [string, (...args: unknown[]) => unknown][]) {
    guarded[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(tx, args);
      } catch (error) {
        throw coded(name, error);
      }
    };
  }
  return guarded as unknown as RowWriteTransaction;
}

/** The row store with driver errors coded; what the caller's own work throws is left alone. */
export function guardRowStore(rows: RowStore): RowStore {
  const call = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw coded(operation, error);
    }
  };
  return {
    migrate: (context) => call("migrate", () => rows.migrate(context)),
    itemBodies: (ids) => call("itemBodies", () => rows.itemBodies(ids)),
    getCheckpoint: (threadId, checkpointNs, checkpointId) =>
      call("getCheckpoint", () => rows.getCheckpoint(threadId, checkpointNs, checkpointId)),
    listCheckpoints: (query) => call("listCheckpoints", () => rows.listCheckpoints(query)),
    getWrites: (threadId, checkpointNs, checkpointIds) =>
      call("getWrites", () => rows.getWrites(threadId, checkpointNs, checkpointIds)),
    retainedHistory: (threadId, checkpointNs, checkpointId, channels) =>
      call("retainedHistory", () =>
        rows.retainedHistory(threadId, checkpointNs, checkpointId, channels),
      ),
    threadIds: (after, limit) => call("threadIds", () => rows.threadIds(after, limit)),
    existingItemIds: (ids) => call("existingItemIds", () => rows.existingItemIds(ids)),
    itemMeta: (ids) => call("itemMeta", () => rows.itemMeta(ids)),
    blobChildren: (ids) => call("blobChildren", () => rows.blobChildren(ids)),
    liveRoots: () => call("liveRoots", () => rows.liveRoots()),
    allItems: () => call("allItems", () => rows.allItems()),
    retainedRefs: (threadId) => call("retainedRefs", () => rows.retainedRefs(threadId)),
    async write(work, options) {
      // Errors the work throws are the caller's (a refusal, a retry signal): only what the
      // transaction itself raises (BEGIN, COMMIT, a statement) is the database's.
      let workFailed = false;
      try {
        return await rows.write(async (tx) => {
          try {
            return await work(guardTransaction(tx));
          } catch (error) {
            workFailed = true;
            throw error;
          }
        }, options);
      } catch (error) {
        throw workFailed ? error : coded("a write transaction", error);
      }
    },
    reclaimSpace: () => call("reclaimSpace", () => rows.reclaimSpace()),
    stats: () => call("stats", () => rows.stats()),
    close: () => call("close", () => rows.close()),
  };
}

/**
 * A blob store over a database (the Postgres one) with its driver errors coded as the blob
 * errors a file-system store raises: ERR_LG_BLOB_READ_FAILED for reads, _WRITE_FAILED for writes.
 */
export function guardBlobStore<T extends BlobStore>(store: T): T {
  const read = (operation: string) => (error: unknown) =>
    error instanceof LeangraphError
      ? error
      : new LeangraphError(
          SerdeErrorCode.blobReadFailed,
          `Could not ${operation}: ${(error as Error)?.message}`,
          {
            cause: error,
          },
        );
  const write = (operation: string) => (error: unknown) =>
    error instanceof LeangraphError
      ? error
      : new LeangraphError(
          SerdeErrorCode.blobWriteFailed,
          `Could not ${operation}: ${(error as Error)?.message}`,
          {
            cause: error,
          },
        );
  async function* stream<V>(source: () => AsyncIterable<V>, mapError: (error: unknown) => unknown) {
    try {
      yield* source();
    } catch (error) {
      throw mapError(error);
    }
  }
  return {
    ...store,
    put: (bytes) => store.put(bytes).catch((error) => Promise.reject(write("write a blob")(error))),
    putStream: (source) =>
      store.putStream(source).catch((error) => Promise.reject(write("write a blob")(error))),
    get: (id) => store.get(id).catch((error) => Promise.reject(read(`read blob ${id}`)(error))),
    getStream: (id) => stream(() => store.getStream(id), read(`read blob ${id}`)),
    has: (id) => store.has(id).catch((error) => Promise.reject(read(`check blob ${id}`)(error))),
    stat: (id) => store.stat(id).catch((error) => Promise.reject(read(`check blob ${id}`)(error))),
    delete: (id) =>
      store.delete(id).catch((error) => Promise.reject(write(`delete blob ${id}`)(error))),
    list: () => stream(() => store.list(), read("list blobs")),
  };
}
