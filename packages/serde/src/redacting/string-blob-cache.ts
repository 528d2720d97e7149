/**
 * Remembers which blob holds which large string, so a state that keeps the same 100 MB string
 * for 100 steps hashes and writes it once, and a string loaded from a blob is known when it is
 * dumped again.
 *
 * Why a Map keyed by the string itself is cheap: V8 does not hash the content of long strings
 * (past ~16K chars the hash is derived from the length) and compares string pointers before
 * contents, so a lookup of the very string object already cached is O(1); a different string
 * object of the same length is compared char by char, which is still cheaper than sha256.
 *
 * Retention, the price of keying by the string: the cache keeps its strings alive. While a string
 * is still in graph state that costs nothing (state holds it anyway); once state drops it, the
 * cache would hold it until evicted. Two bounds keep that finite and documented:
 * - `maxChars`: total UTF-16 units held (LG_BLOB_CACHE_SIZE, default 1 GiB worth); least
 *   recently used entries go first. 0 disables the cache.
 * - idle expiry: an entry not used during the last `idleTicks` dumps is dropped, so a string that
 *   left the state is released a few checkpoints later even when the cache is not full.
 */
export class StringBlobCache {
  private readonly idByString = new Map<string, { id: string; lastTick: number }>();
  private readonly stringById = new Map<string, string>();
  private heldChars = 0;
  private tick = 0;

  constructor(
    private readonly maxChars: number,
    private readonly idleTicks = 256,
  ) {}

  idOf(value: string): string | undefined {
    const entry = this.idByString.get(value);
    if (!entry) return undefined;
    entry.lastTick = this.tick;
    // Re-insert to mark it most recently used (Map keeps insertion order).
    this.idByString.delete(value);
    this.idByString.set(value, entry);
    return entry.id;
  }

  stringOf(id: string): string | undefined {
    const value = this.stringById.get(id);
    if (value !== undefined) this.idOf(value);
    return value;
  }

  remember(value: string, id: string): void {
    if (value.length > this.maxChars || this.idByString.has(value)) return;
    this.idByString.set(value, { id, lastTick: this.tick });
    this.stringById.set(id, value);
    this.heldChars += value.length;
    while (this.heldChars > this.maxChars) {
      const oldest = this.idByString.keys().next().value as string;
      this.forget(oldest);
    }
  }

  /** Called once per dump: advances the clock and drops entries idle for too long. */
  advance(): void {
    this.tick += 1;
    if (this.tick % 16 !== 0 || this.idByString.size === 0) return;
    for (const [value, entry] of this.idByString) {
      if (this.tick - entry.lastTick > this.idleTicks) this.forget(value);
    }
  }

  get size(): number {
    return this.idByString.size;
  }

  private forget(value: string): void {
    const entry = this.idByString.get(value);
    if (!entry) return;
    this.idByString.delete(value);
    this.stringById.delete(entry.id);
    this.heldChars -= value.length;
  }
}
