import type {
  BaseCheckpointSaver,
  CheckpointTuple,
  SerializerProtocol,
} from "@langchain/langgraph-checkpoint";

/** One checkpoint of a stock database, named without reading its values. */
export interface CheckpointKey {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
  parentCheckpointId: string | undefined;
  /** Pending write rows stored for this checkpoint. */
  writeCount: number;
}

/** What a thread takes in a stock database, from SQL sums (nothing decoded). */
export interface StockThreadSize {
  threadId: string;
  checkpoints: number;
  namespaces: number;
  writes: number;
  /** Checkpoint rows + channel value blobs (PostgresSaver) + write values, as stored. */
  bytes: number;
}

export interface StockTotals {
  /** On disk: SQLite file + WAL; Postgres: total relation size of the stock tables. */
  databaseBytes: number;
  threads: number;
  checkpoints: number;
  writes: number;
}

/**
 * A stock SqliteSaver or PostgresSaver database, opened so that it cannot be written (read-only
 * SQLite connection; Postgres transactions READ ONLY). Values are read by the stock saver itself
 * (`getTuple`, its own serializer), one checkpoint at a time; only keys and sizes come from SQL.
 */
export interface StockSource {
  readonly backend: "sqlite" | "postgres";
  readonly saver: BaseCheckpointSaver;
  readonly serde: SerializerProtocol;
  totals(): Promise<StockTotals>;
  /** Largest first. */
  threadSizes(): Promise<StockThreadSize[]>;
  /**
   * Every checkpoint key in (thread, namespace, id) order, oldest first within a namespace
   * (checkpoint ids are time-ordered). Paged by key, so memory stays at one page.
   */
  keys(): AsyncIterable<CheckpointKey>;
  /** The stock saver's own reading of one checkpoint. */
  getTuple(key: CheckpointId): Promise<CheckpointTuple | undefined>;
  close(): Promise<void>;
}

export type CheckpointId = Pick<CheckpointKey, "threadId" | "checkpointNs" | "checkpointId">;

export function configOf(key: CheckpointId) {
  return {
    configurable: {
      thread_id: key.threadId,
      checkpoint_ns: key.checkpointNs,
      checkpoint_id: key.checkpointId,
    },
  };
}

/** Keys per page: small rows (ids and a count), so a page is a few hundred KB at most. */
export const keyPageSize = 500;

/**
 * Keyset pagination: the first page, then each next page after the last row of the previous one.
 * Unlike OFFSET it costs the same on page 1,000 as on page 1, and unlike a held-open cursor it
 * lets other statements run on the connection between pages.
 */
export async function* keysetPages<Row>(
  first: () => Promise<Row[]> | Row[],
  after: (last: Row) => Promise<Row[]> | Row[],
): AsyncIterable<Row> {
  let page = await first();
  while (page.length > 0) {
    yield* page;
    if (page.length < keyPageSize) return;
    page = await after(page[page.length - 1]!);
  }
}
