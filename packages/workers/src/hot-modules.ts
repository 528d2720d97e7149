/**
 * The step modules the pool has run recently, shared with every worker through one
 * SharedArrayBuffer so that a spare imports them while it boots, ahead of its step. The isolate
 * is still fresh (nothing from another step survives in it); only the import moves off the
 * step's critical path. workerData is fixed per piscina instance, hence shared memory.
 *
 * Layout (Int32 view): [0] version, odd while the main thread writes; [1] byte length of the
 * JSON that follows from byte 8.
 */
const HEADER_BYTES = 8;
const CAPACITY_BYTES = 16 * 1024;
/** Kept small: every listed module is imported by every spare, used or not. */
const MAX_MODULES = 4;

export class HotModules {
  readonly buffer = new SharedArrayBuffer(HEADER_BYTES + CAPACITY_BYTES);
  readonly #header = new Int32Array(this.buffer, 0, 2);
  readonly #bytes = new Uint8Array(this.buffer, HEADER_BYTES);
  #modules: string[] = [];

  /** Records a module a step just used; most recent first. */
  remember(moduleUrl: string): void {
    if (this.#modules[0] === moduleUrl) return;
    const modules = [moduleUrl, ...this.#modules.filter((url) => url !== moduleUrl)].slice(
      0,
      MAX_MODULES,
    );
    const encoded = new TextEncoder().encode(JSON.stringify(modules));
    if (encoded.byteLength > CAPACITY_BYTES) return;
    this.#modules = modules;
    Atomics.add(this.#header, 0, 1);
    this.#bytes.set(encoded);
    Atomics.store(this.#header, 1, encoded.byteLength);
    Atomics.add(this.#header, 0, 1);
  }
}

/** Worker side: the current list, read consistently (retried while the main thread writes). */
export function readHotModules(buffer: SharedArrayBuffer | undefined): string[] {
  if (buffer === undefined) return [];
  const header = new Int32Array(buffer, 0, 2);
  for (let attempt = 0; attempt < 100; attempt++) {
    const before = Atomics.load(header, 0);
    if (before % 2 === 1) continue;
    const length = Atomics.load(header, 1);
    // Copy out of shared memory: TextDecoder refuses views on a SharedArrayBuffer.
    const copy = new Uint8Array(length);
    copy.set(new Uint8Array(buffer, HEADER_BYTES, length));
    if (Atomics.load(header, 0) !== before) continue;
    return length === 0 ? [] : (JSON.parse(new TextDecoder().decode(copy)) as string[]);
  }
  return [];
}
