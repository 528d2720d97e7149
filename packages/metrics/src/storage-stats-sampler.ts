import type { StorageStats } from "@leangraph/checkpointer";

/**
 * `storageStats()` walks the blob store (a stat per blob) and asks the database for its size, so
 * it is read at most once per interval and by one caller at a time: a scrape every second, three
 * dashboards open and a Prometheus server together still cost one read per interval. A failed
 * read is not cached, so the next look tries again.
 */
export class StorageStatsSampler {
  readonly #read: () => Promise<StorageStats>;
  readonly #minIntervalMs: number;
  #latest: { stats: StorageStats; readAtMs: number } | undefined;
  #reading: Promise<StorageStats> | undefined;

  constructor(read: () => Promise<StorageStats>, minIntervalMs: number) {
    this.#read = read;
    this.#minIntervalMs = minIntervalMs;
  }

  /** The last read if younger than the interval, otherwise a new one (shared by concurrent callers). */
  current(): Promise<StorageStats> {
    const latest = this.#latest;
    if (latest !== undefined && performance.now() - latest.readAtMs < this.#minIntervalMs) {
      return Promise.resolve(latest.stats);
    }
    this.#reading ??= this.#read()
      .then((stats) => {
        this.#latest = { stats, readAtMs: performance.now() };
        return stats;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  /** The last successful read, without reading; undefined before the first. */
  latest(): StorageStats | undefined {
    return this.#latest?.stats;
  }
}
