/**
 * Gives every externalized value its blob id without writing anything: the id is the sha256 of
 * the bytes the blob will hold, so it can be computed before any I/O. Children are hashed before
 * parents (a parent's JSON embeds its children's ids). What the blobs will hold is kept (small
 * values) or can be produced again (large strings, streamed arrays) for the write phase.
 */
import { createHash } from "node:crypto";
import { BlobSlot } from "./blob-slot.js";
import type { StringBlobCache } from "./string-blob-cache.js";

/** Strings and JSON pieces are encoded in slices of this many UTF-16 units (<= 12 MB of UTF-8). */
const sliceUnits = 4 * 1024 * 1024;
/** Streamed arrays are produced in batches of about this many chars. */
const batchChars = 1024 * 1024;
/** Above this, bytes are produced in slices (and streamed to the store) instead of kept whole. */
export const singleBufferBytes = 16 * 1024 * 1024;

const utf8 = new TextEncoder();

/** A blob a payload references, with what it holds; written (or confirmed) by writeBlobs. */
export interface PendingBlob {
  id: string;
  /** The bytes, or a way to produce them again in slices (values too large to hold twice). */
  content: Uint8Array | (() => AsyncIterable<Uint8Array>);
  /**
   * Known from the string cache to have been written before: the write phase only checks it is
   * still in the store (a gc may have removed it) and writes it again if not.
   */
  knownStored: boolean;
}

export interface SlotHasher {
  readonly stringCache: StringBlobCache;
  readonly hashed: WeakMap<BlobSlot, Promise<void>>;
  /** Every blob hashed so far, by id. */
  readonly pending: Map<string, PendingBlob>;
}

export function createSlotHasher(stringCache: StringBlobCache): SlotHasher {
  return { stringCache, hashed: new WeakMap(), pending: new Map() };
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

/** Every blob id a tree references, through the slots of nested JSON blobs. */
export function blobIdsWithin(tree: unknown): string[] {
  const ids = new Set<string>();
  const trees: unknown[] = [tree];
  while (trees.length > 0) {
    for (const slot of slotsWithin(trees.pop())) {
      if (slot.id === undefined) throw new Error("A slot must be hashed before it is referenced.");
      if (ids.has(slot.id)) continue;
      ids.add(slot.id);
      if (slot.content.type === "tree") trees.push(slot.content.value);
    }
  }
  return [...ids];
}

export async function hashSlotsWithin(hasher: SlotHasher, tree: unknown): Promise<void> {
  // Sequential on purpose: equal strings then hit the cache instead of being hashed twice, and
  // peak memory stays at one blob's worth of buffers.
  for (const slot of slotsWithin(tree)) await hashSlot(hasher, slot);
}

function hashSlot(hasher: SlotHasher, slot: BlobSlot): Promise<void> {
  let done = hasher.hashed.get(slot);
  if (!done) {
    done = hashSlotOnce(hasher, slot);
    hasher.hashed.set(slot, done);
  }
  return done;
}

function addPending(hasher: SlotHasher, blob: PendingBlob): void {
  const existing = hasher.pending.get(blob.id);
  // The same content found twice: a write beats a mere confirmation.
  if (existing === undefined || (existing.knownStored && !blob.knownStored))
    hasher.pending.set(blob.id, blob);
}

async function hashSlotOnce(hasher: SlotHasher, slot: BlobSlot): Promise<void> {
  const content = slot.content;
  switch (content.type) {
    case "string": {
      const text = content.value;
      const wide = slot.kind === "w";
      if (slot.id !== undefined) {
        addPending(hasher, {
          id: slot.id,
          content: () => stringSlices(text, wide),
          knownStored: true,
        });
        return;
      }
      const bytesEstimate = wide ? text.length * 2 : text.length * 3;
      if (bytesEstimate <= singleBufferBytes) {
        const bytes = wide ? Buffer.from(text, "utf16le") : utf8.encode(text);
        slot.id = sha256Hex(bytes);
        addPending(hasher, { id: slot.id, content: bytes, knownStored: false });
      } else {
        slot.id = await sha256OfStream(stringSlices(text, wide));
        addPending(hasher, {
          id: slot.id,
          content: () => stringSlices(text, wide),
          knownStored: false,
        });
      }
      hasher.stringCache.remember(text, { id: slot.id, kind: wide ? "w" : "s" });
      return;
    }
    case "binary": {
      slot.id = sha256Hex(content.value);
      addPending(hasher, { id: slot.id, content: content.value, knownStored: false });
      return;
    }
    case "tree": {
      await hashSlotsWithin(hasher, content.value);
      if (slot.kind === "a" || slot.kind === "o") {
        const kind = slot.kind;
        const produce = () => streamedJsonArray(content.value, kind);
        slot.id = await sha256OfStream(produce());
        addPending(hasher, { id: slot.id, content: produce, knownStored: false });
      } else {
        const bytes = utf8.encode(JSON.stringify(content.value));
        slot.id = sha256Hex(bytes);
        addPending(hasher, { id: slot.id, content: bytes, knownStored: false });
      }
      return;
    }
    case "deferred":
      throw new Error("A deferred slot must be encoded before it is hashed.");
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function sha256OfStream(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of source) hash.update(chunk);
  return hash.digest("hex");
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

/**
 * `[e0,e1,…]` produced element by element (for kind `o`, elements are `[key, value]` pairs).
 * Per-element JSON.stringify is ~20x faster than stream-json's stringer; the async generator is
 * pulled by its consumer (the hash, then the store), which is the backpressure.
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
