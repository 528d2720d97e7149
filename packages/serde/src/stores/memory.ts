import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import { type BlobStat, type BlobStore, type BodyStore, blobMissingError } from "../blob-store.js";
import type { BodyLayer } from "../body/body-layer.js";
import { bodyLayersOption } from "../body/layer-options.js";
import { layeredBlobStore } from "../body/layered-blob-store.js";

interface StoredBlob {
  bytes: Uint8Array;
  writtenAtMs: number;
}

export interface MemoryBlobStoreOptions {
  /** Transformations of every stored body, as for createFsBlobStore. @default [] */
  layers?: readonly BodyLayer[];
}

const memoryBlobStoreOptionsSchema = z.strictObject({ layers: bodyLayersOption.optional() });

/** A blob store in this process's heap: for tests and short-lived runs, never for big payloads. */
export function createMemoryBlobStore(options: MemoryBlobStoreOptions = {}): BlobStore {
  const parsed = parseOptions(
    memoryBlobStoreOptionsSchema,
    options,
    "createMemoryBlobStore(options)",
  );
  return layeredBlobStore(createMemoryBodyStore(), parsed.layers);
}

function createMemoryBodyStore(): BodyStore {
  const blobs = new Map<string, StoredBlob>();

  // Copy: the caller may reuse its buffer, and a blob must never change after its id is handed out.
  function write(id: string, stored: Uint8Array) {
    blobs.set(id, { bytes: Uint8Array.from(stored), writtenAtMs: Date.now() });
  }

  function read(id: string): Uint8Array {
    const blob = blobs.get(id);
    if (!blob) throw blobMissingError(id);
    return Uint8Array.from(blob.bytes);
  }

  function touch(id: string): boolean {
    const existing = blobs.get(id);
    if (existing) existing.writtenAtMs = Math.max(Date.now(), existing.writtenAtMs + 1);
    return existing !== undefined;
  }

  return {
    async write(id, stored) {
      write(id, stored);
    },
    async writeStream(stored, idOf) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of stored) chunks.push(chunk);
      const id = idOf();
      if (!touch(id)) write(id, Buffer.concat(chunks));
    },
    async touch(id) {
      return touch(id);
    },
    async read(id) {
      return read(id);
    },
    async *readStream(id) {
      yield read(id);
    },
    async has(id) {
      return blobs.has(id);
    },
    async stat(id): Promise<BlobStat | undefined> {
      const blob = blobs.get(id);
      return blob && { bytes: blob.bytes.byteLength, writtenAtMs: blob.writtenAtMs };
    },
    async delete(id) {
      return blobs.delete(id);
    },
    async *list() {
      yield* [...blobs.keys()].sort();
    },
  };
}
