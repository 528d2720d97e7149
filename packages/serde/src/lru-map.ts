export interface LruMapOptions<K, V> {
  /** What the entries may weigh together; past it the least recently used go first. */
  maxWeight: number;
  /** @default every entry weighs 1, so maxWeight is an entry count */
  weigh?: (value: V, key: K) => number;
  /** Told about each entry the budget pushed out (not about `delete` or `clear`). */
  onEvict?: (key: K, value: V) => void;
}

/**
 * A map that keeps its most recently used entries within a weight budget: the one least-recently-
 * used trim of the packages (item bodies, large strings, remembered encodes), so the rule of which
 * entry goes first is written once.
 *
 * A JavaScript Map iterates in insertion order, so re-inserting an entry on every use makes that
 * order the recency order, oldest first, and trimming is a walk from the front: O(1) per use, no
 * linked list of our own.
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #maxWeight: number;
  readonly #weigh: (value: V, key: K) => number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  #weight = 0;

  constructor(options: LruMapOptions<K, V>) {
    this.#maxWeight = options.maxWeight;
    this.#weigh = options.weigh ?? (() => 1);
    this.#onEvict = options.onEvict;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** The value, leaving its place in the recency order alone. */
  peek(key: K): V | undefined {
    return this.#entries.get(key);
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Stores (or replaces) the entry as the most recently used, then trims to the budget. */
  set(key: K, value: V): void {
    this.delete(key);
    this.#entries.set(key, value);
    this.#weight += this.#weigh(value, key);
    for (const [oldestKey, oldest] of this.#entries) {
      if (this.#weight <= this.#maxWeight) break;
      this.#remove(oldestKey, oldest);
      this.#onEvict?.(oldestKey, oldest);
    }
  }

  delete(key: K): boolean {
    const value = this.#entries.get(key);
    if (value === undefined && !this.#entries.has(key)) return false;
    this.#remove(key, value as V);
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#weight = 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** What the entries weigh together. */
  get weight(): number {
    return this.#weight;
  }

  /** Entries from the least to the most recently used; deleting while iterating is safe. */
  oldestFirst(): IterableIterator<[K, V]> {
    return this.#entries.entries();
  }

  #remove(key: K, value: V): void {
    this.#entries.delete(key);
    this.#weight -= this.#weigh(value, key);
  }
}
