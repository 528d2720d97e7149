import {
  assertBlobId,
  type BlobId,
  type BlobStore,
  type BodyStore,
  blobCorruptError,
  sha256Hex,
} from "../blob-store.js";
import { type ContentIdHasher, type ContentIds, sha256ContentIds } from "../content-ids.js";
import { LeangraphError, SerdeErrorCode } from "../errors.js";
import { plainIfItMatches } from "./body-format.js";
import type { BodyPlace } from "./body-layer.js";
import {
  createCompressionLayer,
  isCompressionLayer,
  type StreamingBodyLayer,
} from "./compression.js";

/**
 * The one place a blob store proves content ids. Every store keeps stored bytes under an id
 * (BodyStore); this wrapper hashes the plain bytes to name them, applies the layers in order on
 * write (compress, then encrypt) and in reverse on read, and checks what comes out against the id.
 * With no layers it is exactly the plain content-addressed store it always was.
 *
 * With a layer that names bodies itself (encryption, see BodyLayer.contentIds) ids are that
 * layer's keyed ids, and a body it opened is proven by it (its tag binds the id): re-hashing
 * would be wrong for ids written under an earlier key or adopted from plaintext, and adds nothing.
 *
 * Streams stay streams while every layer can stream; a layer that cannot (it has no
 * encodeStream/decodeStream) makes putStream and getStream hold that one body whole.
 */
export interface LayeredBlobStore extends BlobStore {
  /**
   * Stores a body kept plain (written before the layers, or left plain) again through the layers:
   * what `leangraph compact` runs. A body already layered, or one the layers leave plain (it does
   * not shrink), is not written. Resolves its stored size before and after.
   */
  rewritePlain(id: BlobId): Promise<{ storedBefore: number; storedAfter: number }>;
  /**
   * Writes a body again through the current layers when `stale(stored bytes)` says so (what
   * `rekey` runs after a key rotation); a body kept plain is taken as it is only with
   * `adoptPlain`. Resolves whether it was written.
   */
  rewriteIf(
    id: BlobId,
    stale: (stored: Uint8Array) => boolean,
    adoptPlain?: boolean,
  ): Promise<boolean>;
}

/** True for a store built by layeredBlobStore (every store of this package and the Postgres one). */
export function isLayeredBlobStore(store: BlobStore): store is LayeredBlobStore {
  return typeof (store as Partial<LayeredBlobStore>).rewritePlain === "function";
}

export function layeredBlobStore(
  bodies: BodyStore,
  requested: readonly StreamingBodyLayer[] = [],
): LayeredBlobStore {
  // Every store reads compressed bodies, whatever it writes: one opened without a compression
  // layer (a script, an old config) must not take another process's compressed blob for damage.
  const layers = requested.some(isCompressionLayer)
    ? requested
    : [createCompressionLayer("off"), ...requested];
  const reversed = [...layers].reverse();
  const placeOf = (id: BlobId): BodyPlace => ({ kind: "blob", id });
  const naming = layers.find((layer) => layer.contentIds !== undefined);
  /** Whether a decoded body is proven by a layer (then it is never re-hashed). */
  const proven = naming !== undefined;
  const contentIds = (): Promise<ContentIds> =>
    naming === undefined ? Promise.resolve(sha256ContentIds) : naming.contentIds!();

  async function encode(plain: Uint8Array, id: BlobId): Promise<Uint8Array> {
    let stored = plain;
    for (const layer of layers) stored = await layer.encode(stored, placeOf(id));
    return stored;
  }

  /** The plain bytes, proven against the id; any damage is ERR_LG_BLOB_CORRUPT. */
  async function decodeVerified(stored: Uint8Array, id: BlobId): Promise<Uint8Array> {
    let plain: Uint8Array | undefined = stored;
    try {
      for (const layer of reversed) plain = await layer.decode(plain, placeOf(id));
    } catch (error) {
      // A layer's coded refusal (a codec this runtime lacks, a wrong key) says more than "corrupt".
      if (error instanceof LeangraphError && error.code !== SerdeErrorCode.payloadCorrupt)
        throw error;
      plain = undefined;
    }
    if (plain !== undefined && (proven || sha256Hex(plain) === id)) return plain;
    // A body stored plain before layers existed whose first bytes happen to look like a header.
    // (Never under a proving layer: everything it opens went through encode, rekey's adoptions too.)
    if (!proven && plain !== stored && sha256Hex(stored) === id) return stored;
    throw blobCorruptError(
      id,
      plain && !proven ? sha256Hex(plain) : "(undecodable)",
      stored.byteLength,
    );
  }

  async function isHealthy(id: BlobId): Promise<boolean> {
    try {
      await decodeVerified(await bodies.read(id), id);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === SerdeErrorCode.blobCorrupt || code === SerdeErrorCode.blobMissing) return false;
      throw error;
    }
  }

  const streams = layers.every((layer) => layer.encodeStream && layer.decodeStream);

  async function* hashing(
    source: AsyncIterable<Uint8Array>,
    seen: { hash: ContentIdHasher; bytes: number },
  ): AsyncIterable<Uint8Array> {
    for await (const chunk of source) {
      seen.hash.update(chunk);
      seen.bytes += chunk.byteLength;
      yield chunk;
    }
  }

  async function get(id: BlobId): Promise<Uint8Array> {
    assertBlobId(id);
    return decodeVerified(await bodies.read(id), id);
  }

  return {
    get,
    contentIds,

    async rewritePlain(id) {
      assertBlobId(id);
      const stored = await bodies.read(id);
      const storedBefore = stored.byteLength;
      if (sha256Hex(stored) !== id) return { storedBefore, storedAfter: storedBefore };
      const next = await encode(stored, id);
      if (Buffer.compare(next, stored) === 0) return { storedBefore, storedAfter: storedBefore };
      await bodies.write(id, next);
      return { storedBefore, storedAfter: next.byteLength };
    },

    async rewriteIf(id, stale, adoptPlain = false) {
      assertBlobId(id);
      const stored = await bodies.read(id);
      if (!stale(stored)) return false;
      // Adopted: a body kept plain or only compressed that still proves its id.
      const adopted = adoptPlain
        ? plainIfItMatches(stored, id, `blob ${id}`, sha256Hex)
        : undefined;
      const plain = adopted ?? (await decodeVerified(stored, id));
      await bodies.write(id, await encode(plain, id));
      return true;
    },

    async put(plain) {
      const id = (await contentIds()).of(plain);
      // Same content already stored: verify rather than trust it (a damaged copy is rewritten).
      if ((await bodies.has(id)) && (await isHealthy(id)) && (await bodies.touch(id))) return id;
      await bodies.write(id, await encode(plain, id));
      return id;
    },

    async putStream(source) {
      const seen = { hash: (await contentIds()).hasher(), bytes: 0 };
      let id: BlobId | undefined;
      const idOf = () => (id ??= seen.hash.digestHex());
      if (streams) {
        let stored = hashing(source, seen);
        for (const layer of layers) stored = layer.encodeStream!(stored);
        await bodies.writeStream(stored, idOf);
      } else {
        const chunks: Uint8Array[] = [];
        for await (const chunk of hashing(source, seen)) chunks.push(chunk);
        const plainId = idOf();
        const stored = await encode(Buffer.concat(chunks), plainId);
        await bodies.writeStream(
          (async function* () {
            yield stored;
          })(),
          idOf,
        );
      }
      return { id: idOf(), bytes: seen.bytes };
    },

    async *getStream(id) {
      assertBlobId(id);
      if (!streams) {
        yield await get(id);
        return;
      }
      const where = `blob ${id}`;
      let plain = bodies.readStream(id);
      for (const layer of reversed) plain = layer.decodeStream!(plain, where);
      const seen = { hash: sha256ContentIds.hasher(), bytes: 0 };
      try {
        yield* hashing(plain, seen);
      } catch (error) {
        if (error instanceof LeangraphError) throw error;
        throw blobCorruptError(id, "(undecodable)", seen.bytes);
      }
      // The consumer has seen the bytes by now; failing the stream is what stops it from
      // committing them to anything (a parser, a file) as if they were good.
      const actual = seen.hash.digestHex();
      if (!proven && actual !== id) throw blobCorruptError(id, actual, seen.bytes);
    },

    async has(id) {
      assertBlobId(id);
      return bodies.has(id);
    },
    async stat(id) {
      assertBlobId(id);
      return bodies.stat(id);
    },
    async delete(id) {
      assertBlobId(id);
      return bodies.delete(id);
    },
    list: () => bodies.list(),
    ...(bodies.setup && { setup: () => bodies.setup!() }),
    ...(bodies.close && { close: () => bodies.close!() }),
  };
}
