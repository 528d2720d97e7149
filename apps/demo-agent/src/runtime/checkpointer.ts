import { mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { LeanSqliteSaver } from "@leangraph/checkpointer";
import { createFsBlobStore } from "@leangraph/serde";

/**
 * The one place the demo touches @leangraph/checkpointer. The rest of the demo sees a saver to
 * hand to `compile()`, a label for the summary, and storage numbers.
 */
export interface CheckpointStorage {
  /** Database file plus its WAL and shared-memory files. */
  dbBytes: number;
  blobBytes: number;
  blobCount: number;
  checkpointCount: number;
  largestCheckpointRowBytes: number;
}

export interface DemoCheckpointer {
  saver: BaseCheckpointSaver;
  /** e.g. `LeanSqliteSaver + RedactingSerializer` or `SqliteSaver (stock serde)`. */
  label: string;
  /** Files whose sizes count as "bytes on disk" (the DB and the blob dir). */
  sqlitePath: string;
  blobDir: string;
  storage(threadId: string): Promise<CheckpointStorage>;
  close(): Promise<void>;
}

/**
 * Builds the saver from LG_* flags. The demo keeps each run's database and blobs inside its run
 * dir unless the user points LG_SQLITE_PATH / LG_BLOB_DIR elsewhere.
 */
export async function openCheckpointer(options: {
  env: NodeJS.ProcessEnv;
  runDir: string;
}): Promise<DemoCheckpointer> {
  const sqlitePath = options.env.LG_SQLITE_PATH || join(options.runDir, "checkpoints.sqlite");
  const blobDir = options.env.LG_BLOB_DIR || join(options.runDir, "blobs");
  await mkdir(dirname(sqlitePath), { recursive: true });
  if (options.env.LG_REDACTING_SERDE !== "off") {
    const lean = LeanSqliteSaver.fromConnString(sqlitePath, {
      blobStore: createFsBlobStore({ dir: blobDir }),
    });
    return {
      saver: lean,
      label: "LeanSqliteSaver",
      sqlitePath,
      blobDir,
      storage: () => lean.storageStats(),
      close: () => lean.close(),
    };
  }
  const saver = SqliteSaver.fromConnString(sqlitePath);
  return {
    saver,
    label: "SqliteSaver (stock serde)",
    sqlitePath,
    blobDir,
    async storage(threadId) {
      const onDisk = await measureCheckpointFiles(sqlitePath, blobDir);
      // The stock saver creates its tables lazily; a thread that never ran has none.
      const hasTable = saver.db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'")
        .get();
      const row = hasTable
        ? (saver.db
            .prepare(
              "SELECT count(*) AS n, coalesce(max(length(checkpoint) + length(metadata)), 0) AS largest FROM checkpoints WHERE thread_id = ?",
            )
            .get(threadId) as { n: number; largest: number })
        : { n: 0, largest: 0 };
      return { ...onDisk, checkpointCount: row.n, largestCheckpointRowBytes: row.largest };
    },
    async close() {
      saver.db.close();
    },
  };
}

/** Bytes the checkpoints occupy: DB + WAL + SHM, and every file under the blob dir. */
export async function measureCheckpointFiles(
  sqlitePath: string,
  blobDir: string,
): Promise<{ dbBytes: number; blobBytes: number; blobCount: number }> {
  let dbBytes = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    dbBytes += await fileSize(sqlitePath + suffix);
  }
  const blobs = await directorySize(blobDir);
  return { dbBytes, blobBytes: blobs.bytes, blobCount: blobs.files };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function directorySize(dir: string): Promise<{ bytes: number; files: number }> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return { bytes: 0, files: 0 };
  }
  let bytes = 0;
  let files = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = await directorySize(path);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      bytes += await fileSize(path);
      files++;
    }
  }
  return { bytes, files };
}
