import { mkdirSync } from "node:fs";
import { DEFAULT_SNAPSHOT_DIR, parseWorkersEnv } from "../config.js";

/**
 * Node flags for a process leangraph starts, so that the snapshot V8 writes itself just before a
 * heap OOM (`setHeapSnapshotNearHeapLimit`, on by default in the watchdog) lands beside the
 * watchdog's own snapshots in LG_SNAPSHOT_DIR, read from the child's `env`. Without
 * `--diagnostic-dir` V8 writes it into the child's working directory, wherever that is. The
 * directory is created here: V8 does not create it and the snapshot would be lost.
 */
export function snapshotDirNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const snapshotDir = parseWorkersEnv(env).LG_SNAPSHOT_DIR ?? DEFAULT_SNAPSHOT_DIR;
  mkdirSync(snapshotDir, { recursive: true });
  return [`--diagnostic-dir=${snapshotDir}`];
}
