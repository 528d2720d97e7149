import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import {
  assertBlobId,
  type BlobStat,
  type BlobStore,
  blobMissingError,
  sha256Hex,
} from "../blob-store.js";

interface StoredBlob {
  bytes: Uint8Array;
  writtenAtMs: number;
}

/** The memory store has no options yet; the type exists so a misplaced option fails loudly. */
export type MemoryBlobStoreOptions = Record<string, never>;

const memoryBlobStoreOptionsSchema = z.strictObject({});

/** A blob store in this process's heap: for tests and short-lived runs, never for big payloads. */
export function createMemoryBlobStore(options: MemoryBlobStoreOptions = {}): BlobStore {
  parseOptions(memoryBlobStoreOptionsSchema, options, "createMemoryBlobStore(options)");
  const blobs = new Map<string, StoredBlob>();

  async function put(bytes: Uint8Array) {
    const id = sha256Hex(bytes);
    const existing = blobs.get(id);
    if (existing) existing.writtenAtMs = Date.now();
    // Copy: the caller may reuse its buffer, and a blob must never change after its id is handed out.
    else blobs.set(id, { bytes: Uint8Array.from(bytes), writtenAtMs: Date.now() });
    return id;
  }

  function read(id: string): Uint8Array {
    assertBlobId(id);
    const blob = blobs.get(id);
    if (!blob) throw blobMissingError(id);
    return Uint8Array.from(blob.bytes);
  }

  return {
    put,
    async putStream(source) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of source) chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      return { id: await put(bytes), bytes: bytes.byteLength };
    },
    async get(id) {
      return read(id);
    },
    async *getStream(id) {
      yield read(id);
    },
    async has(id) {
      assertBlobId(id);
      return blobs.has(id);
    },
    async stat(id): Promise<BlobStat | undefined> {
      assertBlobId(id);
      const blob = blobs.get(id);
      return blob && { bytes: blob.bytes.byteLength, writtenAtMs: blob.writtenAtMs };
    },
    async delete(id) {
      assertBlobId(id);
      return blobs.delete(id);
    },
    async *list() {
      yield* [...blobs.keys()].sort();
    },
  };
}
