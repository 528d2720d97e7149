import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../support/paths.js";

/**
 * Invalid values for every LG_* flag the packages read. A flag found in the sources without an
 * entry here fails the bad-input scenario, so a new flag cannot ship untested.
 * `/etc/hostname/…` is a path below a regular file: no directory can ever be created there.
 */
export const invalidFlagValues: Record<string, string[]> = {
  LG_REDACTING_SERDE: ["maybe"],
  LG_MAX_STRING_SIZE: ["12parsecs", "-5"],
  LG_MAX_ARRAY_SIZE: ["0", "lots"],
  LG_MAX_OBJECT_KEYS: ["-1"],
  LG_MAX_CHECKPOINT_SIZE: ["10", "big"],
  LG_BLOB_CACHE_SIZE: ["-1mb"],
  LG_BLOB_DIR: ["/etc/hostname/blobs"],
  LG_USE_WORKERS: ["sometimes"],
  LG_WORKER_THREADS: ["0", "two"],
  LG_WORKER_HEAP_MB: ["8"],
  LG_STEP_TIMEOUT_MS: ["-100"],
  LG_STEP_MAX_OUTPUT_MB: ["0"],
  LG_MEM_WATCHDOG: ["yes please"],
  LG_MEM_LOG_INTERVAL_S: ["1.5"],
  LG_HEAP_THRESHOLD: ["1.5"],
  LG_SNAPSHOT_DIR: ["   "],
  LG_MEMORY_PRESET: ["huge"],
  LG_METRICS_PORT: ["70000", "http"],
  LG_METRICS_HOST: ["http://example"],
  LG_STEP_QUEUE: ["http://127.0.0.1:6379", "localhost:6379"],
  LG_STEP_QUEUE_NAME: ["steps:urgent"],
  LG_CHECKPOINTER: ["mongodb"],
  LG_SQLITE_PATH: ["/etc/hostname/checkpoints.sqlite"],
  LG_POSTGRES_URL: ["mysql://root@localhost/db"],
  LG_POSTGRES_SCHEMA: ["drop table x;"],
  LG_BLOB_STORE: ["s3"],
  LG_RETENTION_KEEP_LAST: ["0", "all"],
  LG_RETENTION_MAX_AGE: ["30", "a month"],
  LG_RETENTION_SWEEP_INTERVAL: ["-5m"],
  LG_COMPRESSION: ["lz4"],
  LG_COMPRESSION_LEVEL: ["fast", "99"],
  // A 5-byte key ("short" in base64) and a key without an id: refused naming the key id only.
  LG_ENCRYPTION_KEYS: ["k1:c2hvcnQ=", "no-key-id"],
};

/** Flags whose only invalid values are paths: rejected when used, not by a schema. */
export const pathFlags = new Set(["LG_BLOB_DIR", "LG_SQLITE_PATH"]);

const flagPattern = /(?<![A-Z0-9_])LG_[A-Z][A-Z0-9_]*/g;

/**
 * Every LG_* name in the sources of packages/ and apps/ (this package excluded), minus error
 * codes (`ERR_LG_…`, which the lookbehind already skips) — the same list `grep -r LG_` gives.
 */
export async function collectFlagNames(): Promise<string[]> {
  const names = new Set<string>();
  for (const area of ["packages", "apps"]) {
    for (const project of await readdir(join(repoRoot, area))) {
      if (area === "apps" && project === "reliability") continue;
      const srcDir = join(repoRoot, area, project, "src");
      let files: string[];
      try {
        files = (await readdir(srcDir, { recursive: true })).map(String);
      } catch {
        continue;
      }
      for (const file of files) {
        if (!/\.(ts|mts|js|mjs)$/.test(file)) continue;
        const text = await readFile(join(srcDir, file), "utf8");
        for (const match of text.matchAll(flagPattern)) {
          // `LG_MAX_*` in a comment is a family, not a flag.
          if (!match[0].endsWith("_")) names.add(match[0]);
        }
      }
    }
  }
  return [...names].sort();
}
