/**
 * Gives every externalized value its blob id without writing anything: the id is the store's
 * content id of the bytes the blob will hold (sha256, or keyed under encryption: content-ids.ts),
 * so it can be computed before any I/O. Children are hashed before
 * parents (a parent's JSON embeds its children's ids). What the blobs will hold is kept (small
 * values) or can be produced again (large strings, streamed arrays) for the write phase.
 */
import type { ContentIds } from "../content-ids.js";
import { BlobSlot } from "./blob-slot.js";
import { type ChunkedContent, chunkBlob } from "./chunk-manifest.js";
import type { StringBlobCache } from "./string-blob-cache.js";
import type { WrittenChunkIds } from "./written-chunk-ids.js";

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
  /** A chunk of a chunked value (remembered once written, see written-chunk-ids.ts). */
  chunk?: boolean;
  /** The bytes, or a way to produce them again in slices (values too large to hold twice). */
  content: Uint8Array | (() => AsyncIterable<Uint8Array>);
  /**
   * Known from the string cache to have been written before: the write phase only checks it is
   * still in the store (a gc may have removed it) and writes it again if not.
   */
  knownStored: boolean;
}

export interface SlotHasher {
  /** How the blob store names bodies (its `contentIds`): the ids `put` will return. */
  readonly ids: ContentIds;
  readonly stringCache: StringBlobCache;
  /** UTF-8 strings and binaries of at least this many bytes are stored as content-defined chunks. */
  readonly chunkMinBytes: number;
  /** Chunks written lately: only confirmed, not put again (see written-chunk-ids.ts). */
  readonly writtenChunks: WrittenChunkIds;
  readonly hashed: WeakMap<BlobSlot, Promise<void>>;
  /** Every blob hashed so far, by id. */
  readonly pending: Map<string, PendingBlob>;
}

export function createSlotHasher(
  ids: ContentIds,
  stringCache: StringBlobCache,
  chunkMinBytes: number,
  writtenChunks: WrittenChunkIds,
): SlotHasher {
  return {
    ids,
    stringCache,
    chunkMinBytes,
    writtenChunks,
    hashed: new WeakMap(),
    pending: new Map(),
  };
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
export interface BlobReferences {
  /** Blobs the tree's own JSON names. */
  direct: string[];
  /** For each blob that names others (a JSON blob, a chunk list): the blobs it names directly. */
  children: Map<string, string[]>;
  /** Every blob reachable: the direct ones and all their descendants. */
  closure: string[];
}

/** What a hashed tree references, directly and through the blobs it references. */
export function blobReferencesOf(tree: unknown): BlobReferences {
  const idOf = (slot: BlobSlot) => {
    if (slot.id === undefined) throw new Error("A slot must be hashed before it is referenced.");
    return slot.id;
  };
  const direct = [...new Set(slotsWithin(tree).map(idOf))];
  const children = new Map<string, string[]>();
  const closure = new Set<string>();
  const pending = slotsWithin(tree);
  while (pending.length > 0) {
    const slot = pending.pop()!;
    const id = idOf(slot);
    if (closure.has(id)) continue;
    closure.add(id);
    const named: string[] = [...(slot.chunkIds ?? [])];
    if (slot.content.type === "tree") {
      const inner = slotsWithin(slot.content.value);
      named.push(...inner.map(idOf));
      pending.push(...inner);
    }
    for (const chunkId of slot.chunkIds ?? []) closure.add(chunkId);
    if (named.length > 0) children.set(id, [...new Set(named)]);
  }
  return { direct, children, closure: [...closure] };
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
        confirmCached(hasher, slot, text);
        return;
      }
      const bytesEstimate = wide ? text.length * 2 : text.length * 3;
      if (bytesEstimate <= singleBufferBytes) {
        const bytes = wide ? Buffer.from(text, "utf16le") : utf8.encode(text);
        // Strings with lone surrogates (UTF-16LE, rare) stay one blob: only UTF-8 is chunked.
        if (!wide && bytes.byteLength >= hasher.chunkMinBytes) {
          addChunked(hasher, slot, bytes, "s");
          hasher.stringCache.remember(text, { id: slot.id!, kind: "c", chunkIds: slot.chunkIds });
          return;
        }
        slot.id = hasher.ids.of(bytes);
        addPending(hasher, { id: slot.id, content: bytes, knownStored: false });
      } else {
        // Past 16 MiB a string is streamed as one blob: chunking pays for edited files, and
        // holding every chunk of a value that large in memory at once does not.
        slot.id = await idOfStream(hasher.ids, stringSlices(text, wide));
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
      const bytes = content.value;
      if (bytes.byteLength >= hasher.chunkMinBytes && bytes.byteLength <= singleBufferBytes) {
        addChunked(hasher, slot, bytes, "b");
        return;
      }
      slot.id = hasher.ids.of(bytes);
      addPending(hasher, { id: slot.id, content: bytes, knownStored: false });
      return;
    }
    case "tree": {
      await hashSlotsWithin(hasher, content.value);
      if (slot.kind === "a" || slot.kind === "o") {
        const kind = slot.kind;
        const produce = () => streamedJsonArray(content.value, kind);
        slot.id = await idOfStream(hasher.ids, produce());
        addPending(hasher, { id: slot.id, content: produce, knownStored: false });
      } else {
        const bytes = utf8.encode(JSON.stringify(content.value));
        slot.id = hasher.ids.of(bytes);
        addPending(hasher, { id: slot.id, content: bytes, knownStored: false });
      }
      return;
    }
    case "deferred":
      throw new Error("A deferred slot must be encoded before it is hashed.");
  }
}

/** Makes `slot` a `c` reference: its manifest and every chunk become pending blobs. */
function addChunked(
  hasher: SlotHasher,
  slot: BlobSlot,
  bytes: Uint8Array,
  content: ChunkedContent,
): void {
  const chunked = chunkBlob(bytes, content, hasher.ids);
  // Chunks before the manifest: a manifest is only ever written once its chunks are durable.
  for (const chunk of chunked.chunks)
    addPending(hasher, {
      id: chunk.id,
      content: chunk.bytes,
      chunk: true,
      knownStored: hasher.writtenChunks.has(chunk.id),
    });
  addPending(hasher, {
    id: chunked.manifestId,
    content: chunked.manifestBytes,
    knownStored: false,
  });
  slot.kind = "c";
  slot.id = chunked.manifestId;
  slot.chunkIds = chunked.chunks.map((chunk) => chunk.id);
}

/**
 * A string the cache says was written before: its blobs are only confirmed by the write phase
 * (every chunk as well as the manifest: a gc interrupted between deleting them may have left one
 * without the other). What to write if one is gone is produced again from the string.
 */
function confirmCached(hasher: SlotHasher, slot: BlobSlot, text: string): void {
  const id = slot.id!;
  if (slot.kind !== "c") {
    const wide = slot.kind === "w";
    addPending(hasher, { id, content: () => stringSlices(text, wide), knownStored: true });
    return;
  }
  let rebuilt: ReturnType<typeof chunkBlob> | undefined;
  // Re-chunking the text reproduces the same chunks: boundaries depend on the bytes only.
  const bytesOf = (blobId: string) =>
    async function* () {
      rebuilt ??= chunkBlob(utf8.encode(text), "s", hasher.ids);
      yield rebuilt.manifestId === blobId
        ? rebuilt.manifestBytes
        : rebuilt.chunks.find((chunk) => chunk.id === blobId)!.bytes;
    };
  for (const chunkId of slot.chunkIds ?? [])
    addPending(hasher, { id: chunkId, content: bytesOf(chunkId), chunk: true, knownStored: true });
  addPending(hasher, { id, content: bytesOf(id), knownStored: true });
}

async function idOfStream(ids: ContentIds, source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = ids.hasher();
  for await (const chunk of source) hash.update(chunk);
  return hash.digestHex();
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
