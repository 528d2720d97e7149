import type { StorageStats } from "@leangraph/checkpointer";
import type { MemoryWatchdog, StepPool } from "@leangraph/workers";
import { z } from "zod";

/**
 * The running parts whose state is read when someone looks (a scrape, a dashboard tick): gauges
 * such as queue depth, pressure level and bytes on disk. Events (steps, puts, blobs, sweeps) need
 * no instance: they arrive on diagnostics_channel from every part of the process.
 */
export interface LeangraphSources {
  /** Queue depth, busy workers and concurrency (`stats()`). */
  stepPool?: Pick<StepPool, "stats"> | undefined;
  /** Pressure level, memory samples, and the watchdog's own GC runs and heap snapshots. */
  watchdog?: MemoryWatchdog | undefined;
  /** Bytes on disk, checkpoints and blobs stored (`storageStats()`, read at most every `storageStatsIntervalMs`). */
  checkpointer?: { storageStats(): Promise<StorageStats> } | undefined;
}

const withMethods = <T>(names: string[], accepted: string) =>
  z.custom<T>(
    (value) =>
      value !== null &&
      typeof value === "object" &&
      names.every((name) => typeof (value as Record<string, unknown>)[name] === "function"),
    { message: accepted },
  );

/** The schema fields every entry point that takes sources shares. */
export const sourcesShape = {
  stepPool: withMethods<NonNullable<LeangraphSources["stepPool"]>>(
    ["stats"],
    "a StepPool (an object with stats())",
  ).optional(),
  watchdog: withMethods<MemoryWatchdog>(
    ["current", "history", "on", "off"],
    "a MemoryWatchdog from startMemoryWatchdog()",
  ).optional(),
  checkpointer: withMethods<NonNullable<LeangraphSources["checkpointer"]>>(
    ["storageStats"],
    "a saver with storageStats(), e.g. from createCheckpointer()",
  ).optional(),
};
