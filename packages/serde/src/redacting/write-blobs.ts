/**
 * Writes the blobs a payload references, children before parents (a parent's JSON embeds its
 * children's ids). Everything that can fail for a reason other than I/O has already failed during
 * planning, so a thrown error here leaves at most unreferenced, content-addressed blobs behind.
 */
import type { BlobStore } from "../blob-store.js";
import { BlobSlot } from "./blob-slot.js";
import type { StringBlobCache } from "./string-blob-cache.js";

/** Strings and JSON pieces are encoded in slices of this many UTF-16 units (<= 12 MB of UTF-8). */
const sliceUnits = 4 * 1024 * 1024;
/** Streamed arrays are flushed to the store in batches of about this many chars. */
const batchChars = 1024 * 1024;
/** Above this, bytes are handed to the store as a stream instead of one buffer. */
const singleBufferBytes = 16 * 1024 * 1024;

const utf8 = new TextEncoder();

export interface BlobWriter {
  readonly store: BlobStore;
  readonly stringCache: StringBlobCache;
  readonly written: WeakMap<BlobSlot, Promise<void>>;
}

export function createBlobWriter(store: BlobStore, stringCache: StringBlobCache): BlobWriter {
  return { store, stringCache, written: new WeakMap() };
}

/** Slots directly inside a JSON-ready tree (not inside other slots), iteratively. */
export function slotsWithin(tree: unknown): BlobSlot[] {
  const found: BlobSlot[] = [];
  const pending: unknown[] = [tree];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== "object" || node === null) continue;
    if (node instanceof BlobSlot) {
      found.push(node);
    } else if (Array.isArray(node)) {
      for (const child of node)
        if (typeof child === "object" && child !== null) pending.push(child);
    } else {
      for (const key in node) {
        const child = (node as Record<string, unknown>)[key];
        if (typeof child === "object" && child !== null) pending.push(child);
      }
    }
  }
  return found;
}

export function writeSlot(writer: BlobWriter, slot: BlobSlot): Promise<void> {
  let pending = writer.written.get(slot);
  if (!pending) {
    pending = writeSlotOnce(writer, slot);
    writer.written.set(slot, pending);
  }
  return pending;
}

export async function writeSlotsWithin(writer: BlobWriter, tree: unknown): Promise<void> {
  // Sequential on purpose: equal strings then hit the cache instead of being hashed twice, and
  // peak memory stays at one blob's worth of buffers.
  for (const slot of slotsWithin(tree)) await writeSlot(writer, slot);
}

async function writeSlotOnce(writer: BlobWriter, slot: BlobSlot): Promise<void> {
  const { store } = writer;
  const content = slot.content;
  switch (content.type) {
    case "string": {
      // A cached id is trusted only while the blob is still there (a gc may have pruned it).
      if (slot.id !== undefined && (await store.has(slot.id))) return;
      const text = content.value;
      const wide = slot.kind === "w";
      const bytesEstimate = wide ? text.length * 2 : text.length * 3;
      slot.id =
        bytesEstimate <= singleBufferBytes
          ? await store.put(wide ? Buffer.from(text, "utf16le") : utf8.encode(text))
          : (await store.putStream(stringSlices(text, wide))).id;
      writer.stringCache.remember(text, { id: slot.id, kind: wide ? "w" : "s" });
      return;
    }
    case "binary": {
      const bytes = content.value;
      slot.id =
        bytes.byteLength <= singleBufferBytes
          ? await store.put(bytes)
          : (await store.putStream(byteSlices(bytes))).id;
      return;
    }
    case "tree": {
      await writeSlotsWithin(writer, content.value);
      if (slot.kind === "a" || slot.kind === "o") {
        slot.id = (await store.putStream(streamedJsonArray(content.value, slot.kind))).id;
      } else {
        slot.id = await store.put(utf8.encode(JSON.stringify(content.value)));
      }
      return;
    }
    case "deferred":
      throw new Error("A deferred slot must be encoded before it is written.");
  }
}

/**
 * Encodes a string slice by slice, never materializing a second copy: a 500M-char string is
 * below V8's limit, but its UTF-8 or JSON form in one piece might not be.
 */
async function* stringSlices(text: string, wide: boolean): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + sliceUnits, text.length);
    // Never split a surrogate pair across slices: each half would encode as U+FFFD in UTF-8.
    const last = text.charCodeAt(end - 1);
    if (!wide && end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    const slice = text.slice(start, end);
    yield wide ? Buffer.from(slice, "utf16le") : Buffer.from(slice, "utf8");
    start = end;
  }
}

async function* byteSlices(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.byteLength; start += singleBufferBytes) {
    yield bytes.subarray(start, start + singleBufferBytes);
  }
}

/**
 * `[e0,e1,…]` written element by element (for kind `o`, elements are `[key, value]` pairs).
 * Per-element JSON.stringify is ~20x faster than stream-json's stringer; the async generator is
 * pulled by the store, which is the backpressure.
 */
async function* streamedJsonArray(tree: unknown, kind: "a" | "o"): AsyncGenerator<Uint8Array> {
  let batch = "[";
  let first = true;
  const append = (json: string) => {
    batch += first ? json : `,${json}`;
    first = false;
  };
  if (kind === "a") {
    for (const element of tree as unknown[]) {
      append(JSON.stringify(element));
      if (batch.length >= batchChars) {
        yield Buffer.from(batch, "utf8");
        batch = "";
      }
    }
  } else {
    for (const key of Object.keys(tree as object)) {
      append(JSON.stringify([key, (tree as Record<string, unknown>)[key]]));
      if (batch.length >= batchChars) {
        yield Buffer.from(batch, "utf8");
        batch = "";
      }
    }
  }
  yield Buffer.from(`${batch}]`, "utf8");
}
