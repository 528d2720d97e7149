/** A fixed-capacity history: the watchdog runs for days, so what it remembers must not grow. */
export class SampleRing<T> {
  readonly #slots: (T | undefined)[];
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#slots = new Array(capacity);
  }

  push(item: T): void {
    this.#slots[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
  }

  get size(): number {
    return this.#size;
  }

  latest(): T | undefined {
    return this.#size === 0
      ? undefined
      : this.#slots[(this.#next - 1 + this.capacity) % this.capacity];
  }

  /** Oldest first. */
  toArray(): T[] {
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    const items: T[] = [];
    for (let offset = 0; offset < this.#size; offset++) {
      items.push(this.#slots[(start + offset) % this.capacity] as T);
    }
    return items;
  }

  clear(): void {
    this.#slots.fill(undefined);
    this.#next = 0;
    this.#size = 0;
  }
}

/**
 * Least-squares slope of `value` over `atMs`, in value units per minute; null with fewer than
 * two points or no time spread. A fitted line, not last-minus-first, so one GC in the window
 * does not decide the answer.
 */
export function slopePerMinute(points: readonly { atMs: number; value: number }[]): number | null {
  if (points.length < 2) return null;
  let meanTime = 0;
  let meanValue = 0;
  for (const point of points) {
    meanTime += point.atMs;
    meanValue += point.value;
  }
  meanTime /= points.length;
  meanValue /= points.length;
  let covariance = 0;
  let variance = 0;
  for (const point of points) {
    covariance += (point.atMs - meanTime) * (point.value - meanValue);
    variance += (point.atMs - meanTime) ** 2;
  }
  if (variance === 0) return null;
  return (covariance / variance) * 60_000;
}
