import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "../src/blob-store.js";

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "lg-serde-"));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function listBlobs(store: BlobStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.list()) ids.push(id);
  return ids;
}

/** A real store whose writes are counted: what the dedup guarantees are about. */
export function countingStore(store: BlobStore): BlobStore & { writes: () => number } {
  let writes = 0;
  return {
    ...store,
    put(bytes) {
      writes += 1;
      return store.put(bytes);
    },
    putStream(source) {
      writes += 1;
      return store.putStream(source);
    },
    writes: () => writes,
  };
}

export function payloadText(payload: Uint8Array): string {
  return Buffer.from(payload).toString("utf8");
}
