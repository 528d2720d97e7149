import { mkdirSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";

export type SnapshotReason = "threshold" | "signal" | "manual";

export interface SnapshotPolicy {
  directory: string;
  maxSnapshots: number;
  cooldownMs: number;
  /** Free bytes the disk must keep beyond the snapshot's expected size. */
  minFreeDiskBytes: number;
}

export type SnapshotOutcome =
  | { taken: true; path: string; reason: SnapshotReason; ms: number }
  | { taken: false; reason: SnapshotReason; skipped: SnapshotSkip; why: string };

export type SnapshotSkip = "in-flight" | "max-count" | "cooldown" | "disk-full" | "error";

/**
 * Writes heap snapshots under a budget: a cooldown between threshold snapshots, a maximum count,
 * and a free-disk check first, because a snapshot is about as large as the heap and a full disk
 * would turn a memory problem into a second outage. Operator requests (signal, manual) skip the
 * cooldown and count but never the disk check.
 */
export class HeapSnapshots {
  #taken = 0;
  #lastTakenAtMs = Number.NEGATIVE_INFINITY;
  #inFlight = false;

  constructor(private readonly policy: SnapshotPolicy) {}

  get count(): number {
    return this.#taken;
  }

  async take(reason: SnapshotReason, heapUsedBytes: number): Promise<SnapshotOutcome> {
    const operator = reason !== "threshold";
    if (this.#inFlight)
      return { taken: false, reason, skipped: "in-flight", why: "a snapshot is being written" };
    if (!operator && this.#taken >= this.policy.maxSnapshots) {
      return {
        taken: false,
        reason,
        skipped: "max-count",
        why: `maximum of ${this.policy.maxSnapshots} reached`,
      };
    }
    const sinceLast = Date.now() - this.#lastTakenAtMs;
    if (!operator && sinceLast < this.policy.cooldownMs) {
      return {
        taken: false,
        reason,
        skipped: "cooldown",
        why: `cooldown (${Math.round(sinceLast / 1000)} s since last)`,
      };
    }
    this.#inFlight = true;
    try {
      mkdirSync(this.policy.directory, { recursive: true });
      const disk = await statfs(this.policy.directory);
      const freeBytes = disk.bavail * disk.bsize;
      // A .heapsnapshot is typically 1-2x the used heap.
      const neededBytes = 2 * heapUsedBytes + this.policy.minFreeDiskBytes;
      if (freeBytes < neededBytes) {
        return {
          taken: false,
          reason,
          skipped: "disk-full",
          why: `only ${(freeBytes / 2 ** 20).toFixed(0)} MB free in ${this.policy.directory}, need ${(neededBytes / 2 ** 20).toFixed(0)} MB`,
        };
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const path = join(
        this.policy.directory,
        `heap-${process.pid}-${stamp}-${reason}.heapsnapshot`,
      );
      const started = performance.now();
      writeHeapSnapshot(path);
      this.#taken++;
      this.#lastTakenAtMs = Date.now();
      return { taken: true, path, reason, ms: performance.now() - started };
    } finally {
      this.#inFlight = false;
    }
  }
}
