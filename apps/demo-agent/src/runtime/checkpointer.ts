import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { checkpointerFlagsFromEnv, createCheckpointer } from "@leangraph/checkpointer";
import type { TimeLedger } from "./time-ledger.js";

/**
 * The one place the demo touches @leangraph/checkpointer. The rest of the demo sees a saver to
 * hand to `compile()`, a label for the summary, and storage numbers.
 */
export interface CheckpointStorage {
  /** Database files (SQLite: db + WAL + shm; Postgres: relation sizes). */
  dbBytes: number;
  blobBytes: number;
  blobCount: number;
  checkpointCount: number;
  largestCheckpointRowBytes: number;
}

export interface DemoCheckpointer {
  saver: BaseCheckpointSaver;
  /** e.g. `LeanSqliteSaver + RedactingSerializer` or `SqliteSaver, stock serializer`. */
  label: string;
  /** Storage of the whole database; each demo run has its own unless LG_SQLITE_PATH is shared. */
  storage(): Promise<CheckpointStorage>;
  /**
   * Bytes on disk right now, cheap enough to call after every checkpoint (a stat per file, no
   * query that scans rows): the data of the report's growth chart.
   */
  bytesOnDisk(): Promise<number>;
  /**
   * Calls `listener` each time a checkpoint has been stored, before the graph goes on. Measuring
   * here rather than on the stream's "checkpoints" events matters: an in-process run can be many
   * supersteps ahead of its stream consumer, and the disk would be measured late.
   */
  onCheckpointSaved(listener: () => Promise<void> | void): void;
  close(): Promise<void>;
}

/** Where the database and blobs go: LG_SQLITE_PATH / LG_BLOB_DIR, or inside the run dir. */
export function checkpointerPaths(options: { env: NodeJS.ProcessEnv; runDir: string }): {
  LG_SQLITE_PATH: string;
  LG_BLOB_DIR: string;
} {
  return {
    LG_SQLITE_PATH: options.env.LG_SQLITE_PATH || join(options.runDir, "checkpoints.sqlite"),
    LG_BLOB_DIR: options.env.LG_BLOB_DIR || join(options.runDir, "blobs"),
  };
}

/**
 * Builds the saver from LG_* flags through `createCheckpointer()`. The demo keeps each run's
 * database and blobs inside its run dir unless the user points LG_SQLITE_PATH / LG_BLOB_DIR
 * elsewhere.
 */
export async function openCheckpointer(options: {
  env: NodeJS.ProcessEnv;
  runDir: string;
  /** Records each put and putWrites, from the call until the write is stored. */
  timeLedger?: TimeLedger;
}): Promise<DemoCheckpointer> {
  const env: NodeJS.ProcessEnv = { ...options.env, ...checkpointerPaths(options) };
  const flags = checkpointerFlagsFromEnv(env);
  const saver = await createCheckpointer({ env });
  const saverName = saver.constructor.name.replace(/^Measured/, "");
  const label = flags.redacting
    ? `${saverName} + RedactingSerializer`
    : `${saverName}, stock serializer`;
  const blobDir = flags.blobDir!;
  const listeners: Array<() => Promise<void> | void> = [];
  const ledger = options.timeLedger;
  const put = saver.put.bind(saver);
  saver.put = async (...args: Parameters<typeof saver.put>) => {
    const startMs = performance.now();
    const next = await put(...args);
    // The listeners measure for the report; that is not the checkpoint's own cost.
    ledger?.record("checkpointing", startMs, performance.now());
    for (const listener of listeners) await listener();
    return next;
  };
  if (ledger) {
    const putWrites = saver.putWrites.bind(saver);
    saver.putWrites = (...args: Parameters<typeof saver.putWrites>) =>
      ledger.measure("checkpointing", () => putWrites(...args));
  }
  return {
    saver,
    label,
    storage: () => saver.storageStats(),
    bytesOnDisk: async () => {
      if (flags.backend !== "sqlite") {
        const stats = await saver.storageStats();
        return stats.dbBytes + stats.blobBytes;
      }
      let bytes = 0;
      for (const suffix of ["", "-wal", "-shm"]) bytes += await fileSize(flags.sqlitePath + suffix);
      return bytes + (await directorySize(blobDir));
    },
    onCheckpointSaved: (listener) => {
      listeners.push(listener);
    },
    close: () => saver.close(),
  };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function directorySize(dir: string): Promise<number> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return 0;
  }
  let bytes = 0;
  for (const entry of entries) {
    if (entry.isFile()) bytes += await fileSize(join(entry.parentPath, entry.name));
  }
  return bytes;
}
