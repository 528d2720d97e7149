/**
 * Serializes async critical sections in this process. One better-sqlite3 connection can hold one
 * transaction; without this, a second put arriving while the first awaits a blob write would try
 * to BEGIN inside the first one's transaction.
 */
export class AsyncMutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
