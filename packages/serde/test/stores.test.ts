import { mkdtemp, open, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCompressionLayer } from "../src/body/compression.js";
import { createFsBlobStore } from "../src/stores/fs.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";
import { createFaultyBlobStore, testBlobStore } from "../src/testing/index.js";

const blobPath = (dir: string, id: string) => join(dir, id.slice(0, 2), id.slice(2));

testBlobStore("memory", async () => ({ store: createMemoryBlobStore(), cleanup: async () => {} }));

// The fault layer, with no fault planned, is a store like any other.
testBlobStore("faulty(memory), no fault planned", async () => ({
  store: createFaultyBlobStore(createMemoryBlobStore()),
  cleanup: async () => {},
}));

describe("faulty blob store layer", () => {
  it("fails exactly the planned operation with the code the store would use, then recovers", async () => {
    const store = createFaultyBlobStore(createMemoryBlobStore());
    const id = await store.put(new TextEncoder().encode("kept"));
    store.plan({ failAt: 2, operations: ["get", "has"] });
    await expect(store.has(id)).resolves.toBe(true);
    await expect(store.get(id)).rejects.toMatchObject({
      code: "ERR_LG_BLOB_READ_FAILED",
      cause: { code: "EIO" },
    });
    expect(store.fired).toBe(true);
    await expect(store.get(id)).resolves.toBeDefined();
    store.plan({ failAt: 1 });
    await expect(store.put(new Uint8Array([1]))).rejects.toMatchObject({
      code: "ERR_LG_BLOB_WRITE_FAILED",
      cause: { code: "ENOSPC" },
    });
    store.plan({ failAt: 1, operations: ["getStream"], sticky: true });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const read = async () => {
        for await (const _ of store.getStream(id));
      };
      await expect(read()).rejects.toMatchObject({ code: "ERR_LG_BLOB_READ_FAILED" });
    }
  });
});

testBlobStore(
  "memory, compressed",
  async () => ({
    store: createMemoryBlobStore({ layers: [createCompressionLayer()] }),
    cleanup: async () => {},
  }),
  { compresses: true },
);

for (const compression of ["off", "auto", "gzip"] as const) {
  testBlobStore(
    `fs, compression ${compression}`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "lg-fs-store-"));
      return {
        store: createFsBlobStore({ dir, layers: [createCompressionLayer(compression)] }),
        plainView: createFsBlobStore({ dir }),
        tamper: {
          async flipByte(id) {
            const handle = await open(blobPath(dir, id), "r+");
            const byte = Buffer.alloc(1);
            const { size } = await handle.stat();
            await handle.read(byte, 0, 1, size - 3);
            byte[0] = byte[0]! ^ 0xff;
            await handle.write(byte, 0, 1, size - 3);
            await handle.close();
          },
          async truncate(id) {
            const handle = await open(blobPath(dir, id), "r+");
            const { size } = await handle.stat();
            await handle.truncate(size - 4);
            await handle.close();
          },
        },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
    { damageable: true, compresses: compression !== "off" },
  );
}

testBlobStore(
  "fs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-fs-store-"));
    return {
      store: createFsBlobStore({ dir }),
      tamper: {
        async flipByte(id) {
          const handle = await open(blobPath(dir, id), "r+");
          const byte = Buffer.alloc(1);
          await handle.read(byte, 0, 1, 10);
          byte[0] = byte[0]! ^ 0xff;
          await handle.write(byte, 0, 1, 10);
          await handle.close();
        },
        async truncate(id) {
          await truncate(blobPath(dir, id), 100);
        },
      },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { damageable: true },
);

describe("fs blob store specifics", () => {
  it("fans blobs out into two-character directories and leaves no temp files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-fs-layout-"));
    const store = createFsBlobStore({ dir });
    const id = await store.put(new TextEncoder().encode("layout"));
    await store.putStream(
      (async function* () {
        yield new TextEncoder().encode("streamed");
      })(),
    );
    expect(await readdir(join(dir, id.slice(0, 2)))).toEqual([id.slice(2)]);
    const topLevel = await readdir(dir);
    expect(topLevel.every((name) => name.length === 2)).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });

  it("never lists a stray temp file a crash left behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-fs-stray-"));
    const store = createFsBlobStore({ dir });
    const id = await store.put(new TextEncoder().encode("real"));
    await writeFile(`${blobPath(dir, id)}.123.abcdef.tmp`, "partial");
    const listed: string[] = [];
    for await (const listedId of store.list()) listed.push(listedId);
    expect(listed).toEqual([id]);
    await rm(dir, { recursive: true, force: true });
  });

  it("reports a write it cannot make as ERR_LG_BLOB_WRITE_FAILED, naming the directory", async () => {
    const parent = await mkdtemp(join(tmpdir(), "lg-fs-unwritable-"));
    // A regular file where the store expects a directory fails even for root, unlike chmod.
    const notADirectory = join(parent, "blobs");
    await writeFile(notADirectory, "in the way");
    const store = createFsBlobStore({ dir: notADirectory });
    await expect(store.put(new TextEncoder().encode("x"))).rejects.toMatchObject({
      code: "ERR_LG_BLOB_WRITE_FAILED",
      message: expect.stringContaining(notADirectory),
    });
    await expect(
      store.putStream(
        (async function* () {
          yield new TextEncoder().encode("y");
        })(),
      ),
    ).rejects.toMatchObject({ code: "ERR_LG_BLOB_WRITE_FAILED" });
    await rm(parent, { recursive: true, force: true });
  });

  it("writes the blob again when a concurrent delete removes it mid-check, never failing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-fs-race-"));
    const store = createFsBlobStore({ dir, fsync: false });
    const bytes = new Uint8Array(256 * 1024).fill(7);
    const id = await store.put(bytes);
    for (let round = 0; round < 200; round++) {
      const [putId] = await Promise.all([store.put(bytes), store.delete(id)]);
      expect(putId).toBe(id);
    }
    await store.put(bytes);
    expect((await store.get(id)).byteLength).toBe(bytes.byteLength);
    await rm(dir, { recursive: true, force: true });
  });

  it("lists nothing, rather than failing, when the directory does not exist yet", async () => {
    const store = createFsBlobStore({
      dir: join(tmpdir(), "lg-fs-never-created-", String(Date.now())),
    });
    const listed: string[] = [];
    for await (const id of store.list()) listed.push(id);
    expect(listed).toEqual([]);
  });
});

describe("store options are validated when the store is built", () => {
  it.each([
    [() => createFsBlobStore({ dir: "" }), 'dir="" is not accepted'],
    [() => createFsBlobStore({ dir: 42 } as never), "dir=42 is not accepted"],
    [() => createFsBlobStore({ fsync: "yes" } as never), 'fsync="yes" is not accepted'],
    [() => createFsBlobStore({ directory: "x" } as never), 'directory="x" is not an option'],
    [() => createMemoryBlobStore({ dir: "x" } as never), 'dir="x" is not an option'],
  ])("%s", (build, named) => {
    expect(build).toThrowError(
      expect.objectContaining({
        code: "ERR_LG_INVALID_OPTION",
        message: expect.stringContaining(named),
      }),
    );
  });
});
