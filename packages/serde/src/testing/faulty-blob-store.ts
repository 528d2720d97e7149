import type { BlobStat, BlobStore } from "../blob-store.js";
import { LeangraphError, SerdeErrorCode } from "../errors.js";

/** The operations a BlobStore offers, as counted by a faulty store. */
export type BlobOperation =
  | "put"
  | "putStream"
  | "get"
  | "getStream"
  | "has"
  | "stat"
  | "delete"
  | "list";

export const blobReadOperations: readonly BlobOperation[] = [
  "get",
  "getStream",
  "has",
  "stat",
  "list",
];
export const blobWriteOperations: readonly BlobOperation[] = ["put", "putStream", "delete"];

export interface FaultPlan {
  /** Fail the N-th counted operation (1-based); undefined: never fail, only count. */
  failAt?: number | undefined;
  /** Which operations are counted (and may fail). @default every operation */
  operations?: readonly BlobOperation[];
  /** The errno of the injected failure. @default "EIO" for reads, "ENOSPC" for writes */
  errno?: string;
  /** Keep failing every counted operation after the first failure (a disk that stays bad). */
  sticky?: boolean;
}

export interface FaultyBlobStore extends BlobStore {
  /** Counted operations so far (a fault-free run tells how many positions a sweep must try). */
  readonly operationCount: number;
  /** Whether the planned fault has fired. */
  readonly fired: boolean;
  /** Replaces the plan and resets the count. */
  plan(plan: FaultPlan): void;
}

/**
 * A layer over any BlobStore that makes the N-th operation fail the way the store would report
 * an I/O error (ERR_LG_BLOB_READ_FAILED for reads, ERR_LG_BLOB_WRITE_FAILED for writes, with an
 * errno cause), so every position where a caller touches storage can be made to fail in turn, as
 * SQLite tests its own I/O error handling. Streams fail before their first chunk.
 */
export function createFaultyBlobStore(store: BlobStore, initial: FaultPlan = {}): FaultyBlobStore {
  let plan = initial;
  let count = 0;
  let fired = false;
  const counted = (operation: BlobOperation) =>
    plan.operations === undefined || plan.operations.includes(operation);
  const check = (operation: BlobOperation, id?: string) => {
    if (!counted(operation)) return;
    count += 1;
    const due =
      plan.failAt !== undefined && (count === plan.failAt || (plan.sticky && count > plan.failAt));
    if (!due) return;
    fired = true;
    const write = blobWriteOperations.includes(operation);
    const errno = plan.errno ?? (write ? "ENOSPC" : "EIO");
    const cause = Object.assign(new Error(`${errno}: injected fault in ${operation}`), {
      code: errno,
    });
    throw new LeangraphError(
      write ? SerdeErrorCode.blobWriteFailed : SerdeErrorCode.blobReadFailed,
      `Injected ${errno} in blob store ${operation}${id === undefined ? "" : ` of ${id}`} (operation ${count}).`,
      { cause },
    );
  };
  return {
    get operationCount() {
      return count;
    },
    get fired() {
      return fired;
    },
    plan(next) {
      plan = next;
      count = 0;
      fired = false;
    },
    async put(bytes) {
      check("put");
      return store.put(bytes);
    },
    async putStream(source) {
      check("putStream");
      return store.putStream(source);
    },
    async get(id) {
      check("get", id);
      return store.get(id);
    },
    async *getStream(id) {
      check("getStream", id);
      yield* store.getStream(id);
    },
    async has(id) {
      check("has", id);
      return store.has(id);
    },
    async stat(id): Promise<BlobStat | undefined> {
      check("stat", id);
      return store.stat(id);
    },
    async delete(id) {
      check("delete", id);
      return store.delete(id);
    },
    async *list() {
      check("list");
      yield* store.list();
    },
    close: store.close === undefined ? undefined : () => store.close!(),
  };
}
