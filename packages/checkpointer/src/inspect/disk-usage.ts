import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface DiskUsage {
  /** Sum of file sizes as `ls -l` shows them. */
  apparentBytes: number;
  /** Blocks the file system actually allocated (st_blocks x 512), files and directories: what `du` counts. */
  allocatedBytes: number;
  files: number;
}

/** Real sizes of files (and, recursively, directories) on disk; missing paths count as zero. */
export async function diskUsage(paths: readonly string[]): Promise<DiskUsage> {
  const usage: DiskUsage = { apparentBytes: 0, allocatedBytes: 0, files: 0 };
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) return;
    usage.allocatedBytes += info.blocks * 512;
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
    } else {
      usage.apparentBytes += info.size;
      usage.files += 1;
    }
  };
  for (const path of paths) await visit(path);
  return usage;
}
