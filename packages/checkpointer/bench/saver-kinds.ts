import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { postgresUrl } from "@leangraph/test-postgres";
import { createCheckpointer, type ManagedCheckpointer } from "../src/index.js";
import { diskUsage } from "../src/inspect/disk-usage.js";

/** The savers the bench compares, each built exactly as `createCheckpointer` builds it from flags. */
export const saverKinds = [
  "SqliteSaver",
  "PostgresSaver",
  "MemorySaver",
  "LeanSqliteSaver",
  "LeanPostgresSaver",
  // The same saver with LG_BLOB_STORE=fs: rows in Postgres, blobs as files.
  "LeanPostgresSaver+fs",
] as const;
export type SaverKind = (typeof saverKinds)[number];

export interface BenchSaver {
  saver: ManagedCheckpointer;
  /** Real bytes on disk: file sizes (SQLite + blob dir) or total relation sizes (Postgres schema). */
  bytesOnDisk(): Promise<number>;
  dispose(): Promise<void>;
}

/** createCheckpointer of this checkout, or of an earlier build to compare with (BENCH_BASELINE). */
export type CheckpointerFactory = (options: {
  env: Record<string, string>;
}) => Promise<ManagedCheckpointer>;

/**
 * @param flags more LG_* flags for this saver, e.g. `{ LG_COMPRESSION: "off" }` to measure
 *   a lean saver with stored bodies uncompressed (the default is `auto`).
 */
export async function openBenchSaver(
  kind: SaverKind,
  workDir: string,
  create: CheckpointerFactory = createCheckpointer,
  flags: Record<string, string> = {},
): Promise<BenchSaver> {
  const sqlitePath = join(workDir, `${kind}-${randomBytes(4).toString("hex")}.sqlite`);
  const blobDir = join(workDir, `blobs-${randomBytes(4).toString("hex")}`);
  const schema = `lg_bench_${process.pid}_${randomBytes(4).toString("hex")}`;
  const env: Record<string, string> = {
    LG_SQLITE_PATH: sqlitePath,
    LG_POSTGRES_URL: postgresUrl,
    LG_POSTGRES_SCHEMA: schema,
    LG_CHECKPOINTER: kind.includes("Postgres")
      ? "postgres"
      : kind === "MemorySaver"
        ? "memory"
        : "sqlite",
    LG_REDACTING_SERDE: kind.startsWith("Lean") ? "on" : "off",
    ...(kind === "LeanPostgresSaver+fs" ? { LG_BLOB_STORE: "fs", LG_BLOB_DIR: blobDir } : {}),
    ...flags,
  };
  const saver = await create({ env });
  const pg = kind.includes("Postgres") ? await import("pg") : undefined;
  const pool = pg ? new pg.default.Pool({ connectionString: postgresUrl, max: 2 }) : undefined;
  return {
    saver,
    async bytesOnDisk() {
      if (pool) {
        const { rows } = await pool.query<{ n: string }>(
          `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class AS c
           JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
          [schema],
        );
        const files =
          kind === "LeanPostgresSaver+fs" ? (await diskUsage([blobDir])).apparentBytes : 0;
        return Number(rows[0]?.n ?? 0) + files;
      }
      if (kind === "MemorySaver") return (await saver.storageStats()).dbBytes;
      const usage = await diskUsage([
        sqlitePath,
        `${sqlitePath}-wal`,
        `${sqlitePath}-shm`,
        `${sqlitePath}.blobs`,
      ]);
      return usage.apparentBytes;
    },
    async dispose() {
      await saver.close();
      if (pool) {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      }
    },
  };
}
