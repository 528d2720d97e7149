import { statSync } from "node:fs";

/**
 * Bytes a SQLite database takes on disk: the file, its WAL and its shared-memory index (what
 * `storageStats().dbBytes` reports for the lean and the stock SQLite saver alike); 0 in memory.
 * A file that cannot be stat'ed counts as 0: a size report never fails a saver.
 */
export function sqliteDatabaseBytes(db: { name: string; memory: boolean }): number {
  if (db.memory) return 0;
  return fileBytes(db.name) + fileBytes(`${db.name}-wal`) + fileBytes(`${db.name}-shm`);
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
