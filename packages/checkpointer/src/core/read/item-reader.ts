import { type BlobStore, decodeBody, LeangraphError, plainIfItMatches } from "@leangraph/serde";
import type { ItemArrival } from "../../codec/encoded-value.js";
import { sha256Hex } from "../../codec/tree-node.js";
import type { ItemReader } from "../../codec/value-codec.js";
import { itemCorruptError, itemMissingError } from "../../errors.js";
import type { RowStore } from "../row-store.js";
import type { ItemCache } from "./item-cache.js";

/** Bounded parallelism: a 1,000-element array of blobs should not open 1,000 files at once. */
const parallelBlobReads = 8;

/**
 * Reads item bodies by id for the codec: from the cache, the database or the blob store.
 * Database bodies are decompressed (once: the cache holds plain bytes) and checked against their
 * sha256 id here (they are < blobMinBytes, so this is cheap); blob store bodies are checked by the
 * store itself. A flipped byte must fail loudly, never load as a different value.
 *
 * Under encryption the rows hand bodies over opened from an envelope whose tag binds the item's
 * id: that is the proof (see itemBodyPlain), and ids are keyed, so there is no sha256 to check.
 */
export class VerifiedItemReader {
  constructor(
    private readonly rows: Pick<RowStore, "itemBodies">,
    private readonly blobStore: BlobStore,
    private readonly itemCache: ItemCache,
    /** Runs before any read (the saver's setup). */
    private readonly ready: () => Promise<void>,
    /** Bodies come opened from an envelope bound to their id (encryption on). */
    private readonly provenByEnvelope = false,
  ) {}

  /** A reader whose corruption errors name `where` (thread, checkpoint, channel or write). */
  readerFor(where: string): ItemReader {
    return { readItems: (ids, onItem) => this.readItems(ids, where, onItem) };
  }

  async readItems(
    ids: readonly string[],
    where: string,
    onItem?: ItemArrival,
  ): Promise<Map<string, Uint8Array>> {
    await this.ready();
    const result = new Map<string, Uint8Array>();
    const uncached: string[] = [];
    for (const id of ids) {
      const cached = this.itemCache.get(id);
      if (cached === undefined) uncached.push(id);
      else {
        result.set(id, cached);
        onItem?.(id, cached);
      }
    }
    const bodies =
      uncached.length > 0 ? await this.rows.itemBodies(uncached) : new Map<string, null>();
    const inBlobStore: string[] = [];
    for (const id of uncached) {
      const body = bodies.get(id);
      if (body === undefined) throw itemMissingError(id);
      if (body === null) {
        inBlobStore.push(id);
        continue;
      }
      const plain = itemBodyPlain(body, id, `item ${id} (${where})`, this.provenByEnvelope);
      if (plain === undefined) throw itemCorruptError(id, where);
      result.set(id, plain);
      this.itemCache.add(id, plain);
      onItem?.(id, plain);
    }
    await readBlobsInto(this.blobStore, inBlobStore, result, onItem);
    return result;
  }
}

/**
 * Reads blob-store bodies with at most `parallelBlobReads` in flight, starting the next read as
 * soon as one ends: a batch would wait for its slowest read while the thread pool (file reads,
 * decompression) idles, and the main thread's hash checks would not overlap the pool's work.
 * After a failure no new read starts; the first error is the one thrown. `onItem` runs in the
 * lane, as each body arrives, while the other lanes' reads continue.
 */
async function readBlobsInto(
  blobStore: BlobStore,
  ids: readonly string[],
  into: Map<string, Uint8Array>,
  onItem: ItemArrival | undefined,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < ids.length) {
      const id = ids[next++]!;
      try {
        const bytes = await blobStore.get(id);
        into.set(id, bytes);
        onItem?.(id, bytes);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const lanes = Math.min(parallelBlobReads, ids.length);
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * The plain bytes of a database item body, or undefined when they are not what `id` names.
 * Without encryption that is decided by hashing (sha256 ids; plainIfItMatches also tells an old
 * plain body that starts like a header from a compressed one). With encryption the body was
 * opened from an envelope bound to this id, which proves it whatever the id scheme (keyed ids,
 * ids of an older key, sha256 ids adopted from plaintext), and every sealed body went through
 * encodeBody (rekey re-encodes what it adopts), so its header alone says how to decode it.
 */
export function itemBodyPlain(
  body: Uint8Array,
  id: string,
  where: string,
  provenByEnvelope: boolean,
): Uint8Array | undefined {
  if (!provenByEnvelope) return plainIfItMatches(body, id, where, sha256Hex);
  try {
    return decodeBody(body, where);
  } catch (error) {
    // A codec this runtime lacks, a newer format: coded, and said as such.
    if (error instanceof LeangraphError) throw error;
    return undefined;
  }
}
