import { LruMap } from "@leangraph/serde";

/**
 * Bodies of database items (tree nodes and small values) this saver wrote or read, most recently
 * used first, up to a byte budget.
 *
 * Safe to share across reads because an item's id is the sha256 of its body: a cached body is the
 * body for that id, whoever wrote it and whenever. It only answers reads. Whether an item still
 * exists is never taken from here (put asks the database inside its transaction), and a lifecycle
 * operation in this process empties it, so a read after gc/prune/deleteThread meets what the
 * database holds. Reading a live checkpoint right after putting it (LangGraph reads the latest
 * checkpoint at the start of every run) then needs no item round trips, and a growing message
 * list re-reads only the nodes that changed.
 */
export class ItemCache {
  readonly #maxBytes: number;
  readonly #bodies: LruMap<string, Uint8Array>;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#bodies = new LruMap({ maxWeight: maxBytes, weigh: (body) => body.byteLength });
  }

  get(id: string): Uint8Array | undefined {
    return this.#bodies.get(id);
  }

  /** `body` must hash to `id` (checked by the caller when it came from storage). */
  add(id: string, body: Uint8Array): void {
    // One large body must not flush everything else; 0 turns the cache off.
    if (this.#maxBytes === 0 || body.byteLength > this.#maxBytes / 8 || this.#bodies.has(id))
      return;
    // A copy of its own: a small Buffer from a driver can be a view into a shared 8 KB slab,
    // which the cache would otherwise keep alive (and under-count) for a 100-byte body.
    this.#bodies.set(id, new Uint8Array(body));
  }

  clear(): void {
    this.#bodies.clear();
  }
}
