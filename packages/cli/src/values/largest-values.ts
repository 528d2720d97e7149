import type { LargeValue } from "./value-size.js";

/** Where a large value was found first, and how often the same bytes are stored. */
export interface LargestValueEntry {
  path: string;
  channel: string;
  bytes: number;
  /** How many times these exact bytes are stored (one per checkpoint row or blob holding them). */
  copies: number;
  threadId: string;
  /** Where it was first seen: a checkpoint id, or (stock PostgresSaver) `channel version N`. */
  at: string;
  /** `state`: a channel value of a checkpoint; `write`: a pending write. */
  source: "state" | "write";
}

export interface FoundIn {
  channel: string;
  threadId: string;
  at: string;
  source: "state" | "write";
}

/**
 * The `capacity` largest distinct values seen, with exact copy counts, in bounded memory.
 *
 * A value enters only if it is larger than the smallest one held (once the table is full), and
 * the smallest is what leaves. Sizes never change, so the minimum only grows: a value turned away
 * or evicted can never qualify again, and every value held was admitted at its first occurrence.
 * Its copy count is therefore exact.
 */
export class LargestValues {
  readonly #entries = new Map<string, LargestValueEntry>();

  constructor(readonly capacity = 1000) {}

  offer(found: LargeValue, where: FoundIn): void {
    const known = this.#entries.get(found.hash);
    if (known !== undefined) {
      known.copies += 1;
      // A path in state reads better than the write that first carried the value.
      if (known.source === "write" && where.source === "state") {
        Object.assign(known, { path: found.path, ...where });
      }
      return;
    }
    if (this.#entries.size >= this.capacity) {
      let smallestHash: string | undefined;
      let smallestBytes = Number.POSITIVE_INFINITY;
      for (const [hash, entry] of this.#entries) {
        if (entry.bytes < smallestBytes) {
          smallestBytes = entry.bytes;
          smallestHash = hash;
        }
      }
      if (found.bytes <= smallestBytes) return;
      this.#entries.delete(smallestHash!);
    }
    this.#entries.set(found.hash, { path: found.path, bytes: found.bytes, copies: 1, ...where });
  }

  /** Largest stored total (bytes × copies) first. */
  top(count: number): LargestValueEntry[] {
    return [...this.#entries.values()]
      .sort((a, b) => b.bytes * b.copies - a.bytes * a.copies || b.bytes - a.bytes)
      .slice(0, count);
  }
}
