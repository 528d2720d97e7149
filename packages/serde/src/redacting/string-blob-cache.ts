import { LruMap } from "../lru-map.js";

/**
 * Remembers which blob holds which large string, so a state that keeps the same 100 MB string
 * for 100 steps hashes and writes it once, and a string loaded from a blob is known when it is
 * dumped again.
 *
 * Lookup: V8 compares string pointers before contents, so finding the very string object that is
 * cached is O(1) whatever its size. We do not key a Map by the string itself, though: V8 derives
 * the hash of strings longer than ~16K chars from their length alone, so thousands of distinct
 * strings of one length (say, 150 KB chunks) would share one hash bucket and every lookup would
 * compare against all of them (measured: 10,000 such strings took 9 s just in Map operations).
 * Entries are keyed by a short fingerprint (length plus 64 sampled chars) instead, and compared
 * with `===` inside their bucket.
 *
 * Retention, the price of keying by the string: the cache keeps its strings alive. While a string
 * is still in graph state that costs nothing (state holds it anyway); once state drops it, the
 * cache would hold it until evicted. Two bounds keep that finite and documented:
 * - `maxChars`: total UTF-16 units held (LG_BLOB_CACHE_SIZE, default 1 GiB worth); least
 *   recently used entries go first. 0 disables the cache.
 * - idle expiry: an entry not used during the last `idleTicks` dumps is dropped, so a string that
 *   left the state is released a few checkpoints later even when the cache is not full.
 */
/**
 * Where a string lives: its blob id and how it was stored (`s` UTF-8, `w` UTF-16LE, `c` as
 * content-defined chunks, whose ids a payload referencing it must name too).
 */
export interface StringBlob {
  id: string;
  kind: "s" | "w" | "c";
  chunkIds?: readonly string[];
}

interface CacheEntry extends StringBlob {
  value: string;
  fingerprint: string;
  lastTick: number;
}

const sampleCount = 16;

function fingerprintOf(value: string): string {
  const length = value.length;
  let samples = "";
  const step = Math.max(1, Math.floor(length / sampleCount));
  for (let index = step >> 1; index < length; index += step) samples += value[index];
  return `${length}:${value.slice(0, 24)}|${samples}|${value.slice(-24)}`;
}

export class StringBlobCache {
  private readonly buckets = new Map<string, CacheEntry[]>();
  /** By blob id, least recently used first, within `maxChars` held. */
  private readonly byId: LruMap<string, CacheEntry>;
  private tick = 0;

  constructor(
    private readonly maxChars: number,
    private readonly idleTicks = 256,
  ) {
    this.byId = new LruMap({
      maxWeight: maxChars,
      weigh: (entry) => entry.value.length,
      onEvict: (_id, entry) => this.leaveBucket(entry),
    });
  }

  blobOf(value: string): StringBlob | undefined {
    if (this.byId.size === 0) return undefined;
    const entry = this.find(value, fingerprintOf(value));
    if (!entry) return undefined;
    this.touch(entry);
    return entry;
  }

  stringOf(id: string): string | undefined {
    const entry = this.byId.peek(id);
    if (!entry) return undefined;
    this.touch(entry);
    return entry.value;
  }

  remember(value: string, { id, kind, chunkIds }: StringBlob): void {
    if (value.length > this.maxChars || this.byId.has(id)) return;
    const fingerprint = fingerprintOf(value);
    const entry: CacheEntry = { value, id, kind, chunkIds, fingerprint, lastTick: this.tick };
    const bucket = this.buckets.get(fingerprint);
    if (bucket) bucket.push(entry);
    else this.buckets.set(fingerprint, [entry]);
    this.byId.set(id, entry);
  }

  /** Called once per dump: advances the clock and drops entries idle for too long. */
  advance(): void {
    this.tick += 1;
    if (this.tick % 16 !== 0) return;
    for (const [id, entry] of this.byId.oldestFirst()) {
      // Recency order: the first entry still in use ends the sweep.
      if (this.tick - entry.lastTick <= this.idleTicks) break;
      this.byId.delete(id);
      this.leaveBucket(entry);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  private find(value: string, fingerprint: string): CacheEntry | undefined {
    const bucket = this.buckets.get(fingerprint);
    if (!bucket) return undefined;
    for (const entry of bucket) if (entry.value === value) return entry;
    return undefined;
  }

  private touch(entry: CacheEntry): void {
    entry.lastTick = this.tick;
    this.byId.get(entry.id);
  }

  private leaveBucket(entry: CacheEntry): void {
    const bucket = this.buckets.get(entry.fingerprint);
    if (!bucket) return;
    const remaining = bucket.filter((other) => other !== entry);
    if (remaining.length > 0) this.buckets.set(entry.fingerprint, remaining);
    else this.buckets.delete(entry.fingerprint);
  }
}
