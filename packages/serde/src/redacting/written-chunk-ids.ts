/**
 * Chunk ids this serializer wrote or confirmed lately. A new version of an edited file shares
 * all but a chunk or two with the last one; for those shared chunks a store `has` check is enough,
 * where a `put` of content already stored would read and re-hash it (the fs store verifies an
 * existing blob rather than trusting it). Bounded, least recently used first.
 */
export class WrittenChunkIds {
  readonly #ids = new Set<string>();

  constructor(private readonly maxIds = 200_000) {}

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.maxIds) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
  }
}
