import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BlobId, BlobStore } from "../blob-store.js";
import { isLayeredBlobStore } from "../body/layered-blob-store.js";
import { type ContentIds, contentIdsOf } from "../content-ids.js";
import { SerdeErrorCode } from "../errors.js";

/** What a store implementation hands the shared suite. */
export interface BlobStoreHarness {
  store: BlobStore;
  /**
   * Ways to damage a stored blob in place, the way a failing disk or a careless operator would.
   * Required when the suite is called with `{ damageable: true }`; the memory store cannot be
   * damaged from outside and leaves it out.
   */
  tamper?: {
    flipByte(id: BlobId): Promise<void>;
    truncate(id: BlobId): Promise<void>;
  };
  cleanup(): Promise<void>;
  /**
   * The same backend opened without body layers, as a store written before they existed. Given
   * for a layered store: the suite then checks that such bodies still load through the layers.
   */
  plainView?: BlobStore;
}

const maliciousIds = [
  "../../etc/passwd",
  "",
  "abc",
  "A".repeat(64),
  `${"a".repeat(63)}/`,
  `${"a".repeat(64)}\n`,
  `../${"a".repeat(61)}`,
];

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    yield bytes.subarray(offset, offset + size);
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/**
 * The conformance suite every BlobStore passes (unstorage's `testDriver` pattern): call it from a
 * vitest file with a factory that builds a fresh, empty store.
 */
export function testBlobStore(
  name: string,
  createHarness: () => Promise<BlobStoreHarness>,
  options: {
    damageable?: boolean;
    compresses?: boolean;
    /** Bytes a layer adds to every stored body (encryption's envelope: header and tag). */
    storedOverheadBytes?: number;
  } = {},
): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let harness: BlobStoreHarness;
    let store: BlobStore;
    /** How the store names bodies: sha256, or keyed when it encrypts. */
    let ids: ContentIds;

    beforeEach(async () => {
      harness = await createHarness();
      store = harness.store;
      ids = await contentIdsOf(store);
    });
    afterEach(async () => {
      await harness.store.close?.();
      await harness.cleanup();
    });

    it("names a blob by its content id (sha256 unless it says otherwise) and returns it unchanged", async () => {
      const bytes = bytesOf("hello, blob ✓");
      const id = await store.put(bytes);
      expect(id).toBe(ids.of(bytes));
      // A keyed store must not name anything by the plain hash: that is what keyed ids hide.
      if (ids.keyed) expect(id).not.toBe(sha256(bytes));
      expect(Buffer.from(await store.get(id))).toEqual(Buffer.from(bytes));
      expect(await store.has(id)).toBe(true);
      expect((await store.stat(id))?.bytes).toBe(
        bytes.byteLength + (options.storedOverheadBytes ?? 0),
      );
    });

    it("stores the empty blob", async () => {
      const id = await store.put(new Uint8Array(0));
      expect((await store.get(id)).byteLength).toBe(0);
    });

    it("is idempotent: the same content twice is one blob", async () => {
      const bytes = bytesOf("same content");
      const [first, second] = await Promise.all([store.put(bytes), store.put(bytes)]);
      expect(first).toBe(second);
      const listed: string[] = [];
      for await (const id of store.list()) listed.push(id);
      expect(listed).toEqual([first]);
    });

    it("keeps its own copy: mutating the caller's buffer afterwards changes nothing", async () => {
      const bytes = bytesOf("immutable");
      const id = await store.put(bytes);
      bytes[0] = 0;
      expect(ids.of(await store.get(id))).toBe(id);
    });

    it("refreshes writtenAtMs when existing content is put again", async () => {
      const id = await store.put(bytesOf("aging"));
      const before = (await store.stat(id))!.writtenAtMs;
      await new Promise((resolve) => setTimeout(resolve, 20));
      await store.put(bytesOf("aging"));
      expect((await store.stat(id))!.writtenAtMs).toBeGreaterThan(before);
    });

    it("streams a large blob in and out", async () => {
      const bytes = new Uint8Array(6 * 1024 * 1024 + 7);
      for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 31) & 0xff;
      const { id, bytes: size } = await store.putStream(chunksOf(bytes, 64 * 1024));
      expect(id).toBe(ids.of(bytes));
      expect(size).toBe(bytes.byteLength);
      const streamed = await collect(store.getStream(id));
      expect(streamed.equals(Buffer.from(bytes))).toBe(true);
      expect(await store.put(bytes)).toBe(id);
    });

    it("lists exactly what it holds and forgets deleted blobs", async () => {
      const ids = await Promise.all(["a", "b", "c"].map((text) => store.put(bytesOf(text))));
      expect(await store.delete(ids[1]!)).toBe(true);
      expect(await store.delete(ids[1]!)).toBe(false);
      const listed: string[] = [];
      for await (const id of store.list()) listed.push(id);
      expect(listed.sort()).toEqual([ids[0]!, ids[2]!].sort());
      expect(await store.has(ids[1]!)).toBe(false);
      expect(await store.stat(ids[1]!)).toBeUndefined();
    });

    it("raises ERR_LG_BLOB_MISSING for an absent blob, in get and getStream", async () => {
      const absent = ids.of(bytesOf("never stored"));
      expect(await codeOf(store.get(absent))).toBe(SerdeErrorCode.blobMissing);
      expect(await codeOf(collect(store.getStream(absent)))).toBe(SerdeErrorCode.blobMissing);
    });

    it("rejects malformed ids before touching the backend", async () => {
      for (const id of maliciousIds) {
        expect(await codeOf(store.get(id))).toBe(SerdeErrorCode.blobIdInvalid);
        expect(await codeOf(collect(store.getStream(id)))).toBe(SerdeErrorCode.blobIdInvalid);
        expect(await codeOf(store.has(id))).toBe(SerdeErrorCode.blobIdInvalid);
        expect(await codeOf(store.stat(id))).toBe(SerdeErrorCode.blobIdInvalid);
        expect(await codeOf(store.delete(id))).toBe(SerdeErrorCode.blobIdInvalid);
      }
    });

    if (options.compresses) {
      it("stores compressible content smaller, under the id of its plain bytes", async () => {
        const plain = bytesOf("const value = 'compressible';\n".repeat(400));
        const id = await store.put(plain);
        expect(id).toBe(ids.of(plain));
        expect((await store.stat(id))!.bytes).toBeLessThan(plain.byteLength / 4);
        expect(Buffer.from(await store.get(id)).equals(Buffer.from(plain))).toBe(true);
        const streamed = await store.putStream(chunksOf(plain, 1000));
        expect(streamed).toEqual({ id, bytes: plain.byteLength });
        expect((await collect(store.getStream(id))).equals(Buffer.from(plain))).toBe(true);
      });
    }

    it("loads bodies stored before its layers existed, even ones that look like a header", async () => {
      const view = harness.plainView;
      if (view === undefined) return;
      const old = bytesOf("old plain body ".repeat(50));
      const lookalike = Uint8Array.of(0x89, 0x4c, 0x47, 0x42, 1, 2, ...bytesOf("not brotli"));
      for (const bytes of [old, lookalike]) {
        const id = await view.put(bytes);
        expect(Buffer.from(await store.get(id)).equals(Buffer.from(bytes))).toBe(true);
        expect(await store.put(bytes)).toBe(id);
      }
      expect((await collect(store.getStream(sha256(old)))).equals(Buffer.from(old))).toBe(true);
      // …and the other way round: a store opened without layers reads what the layers wrote.
      const layered = bytesOf("written through the layers ".repeat(50));
      const layeredId = await store.put(layered);
      expect(Buffer.from(await view.get(layeredId)).equals(Buffer.from(layered))).toBe(true);
      expect((await collect(view.getStream(layeredId))).equals(Buffer.from(layered))).toBe(true);
      if (options.compresses && isLayeredBlobStore(store)) {
        const { storedBefore, storedAfter } = await store.rewritePlain(sha256(old));
        expect(storedBefore).toBe(old.byteLength);
        expect(storedAfter).toBeLessThan(old.byteLength / 4);
        expect(Buffer.from(await store.get(sha256(old))).equals(Buffer.from(old))).toBe(true);
        expect(await store.rewritePlain(sha256(old))).toEqual({
          storedBefore: storedAfter,
          storedAfter,
        });
      }
    });

    if (options.damageable) {
      describe("damage", () => {
        it("raises ERR_LG_BLOB_CORRUPT for a flipped byte, never wrong data", async () => {
          const id = await store.put(bytesOf("x".repeat(4096)));
          await harness.tamper!.flipByte(id);
          expect(await codeOf(store.get(id))).toBe(SerdeErrorCode.blobCorrupt);
          expect(await codeOf(collect(store.getStream(id)))).toBe(SerdeErrorCode.blobCorrupt);
        });

        it("raises ERR_LG_BLOB_CORRUPT for a truncated blob", async () => {
          const id = await store.put(bytesOf("y".repeat(4096)));
          await harness.tamper!.truncate(id);
          expect(await codeOf(store.get(id))).toBe(SerdeErrorCode.blobCorrupt);
        });

        it("heals a damaged blob when the same content is put again", async () => {
          const bytes = bytesOf("z".repeat(4096));
          const id = await store.put(bytes);
          await harness.tamper!.flipByte(id);
          expect(await store.put(bytes)).toBe(id);
          expect(ids.of(await store.get(id))).toBe(id);
        });
      });
    }
  });
}
