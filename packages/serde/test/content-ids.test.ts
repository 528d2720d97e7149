import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  contentIdsOf,
  createCompressionLayer,
  createEncryptionLayer,
  createFsBlobStore,
  createMemoryBlobStore,
  KeyRing,
  keyedContentIds,
  RedactingSerializer,
  SerdeErrorCode,
  sameContentIds,
  sha256ContentIds,
} from "../src/index.js";

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("content ids", () => {
  it("sha256 ids are today's ids", () => {
    const bytes = Buffer.from("hello");
    expect(sha256ContentIds.keyed).toBe(false);
    expect(sha256ContentIds.of(bytes)).toBe(sha256(bytes));
    const hasher = sha256ContentIds.hasher();
    hasher.update(bytes.subarray(0, 2));
    hasher.update(bytes.subarray(2));
    expect(hasher.digestHex()).toBe(sha256(bytes));
  });

  it("keyed ids: 64 hex, not the sha256, stable per current key, another key names otherwise", () => {
    const bytes = Buffer.from("a known text");
    const ringA = new KeyRing([{ id: "a", key: keyA }]);
    const ids = keyedContentIds(ringA);
    const id = ids.of(bytes);
    expect(ids.keyed).toBe(true);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(id).not.toBe(sha256(bytes));
    // Another ring with the same current key (an old key behind it) names alike…
    const sameCurrent = new KeyRing([
      { id: "a", key: keyA },
      { id: "b", key: keyB },
    ]);
    expect(keyedContentIds(sameCurrent).of(bytes)).toBe(id);
    expect(sameContentIds(ids, keyedContentIds(sameCurrent))).toBe(true);
    // …a rotated one (B first) does not: ids do not survive a rotation (README, Encryption).
    const rotated = new KeyRing([
      { id: "b", key: keyB },
      { id: "a", key: keyA },
    ]);
    expect(keyedContentIds(rotated).of(bytes)).not.toBe(id);
    expect(sameContentIds(ids, keyedContentIds(rotated))).toBe(false);
    expect(sameContentIds(ids, sha256ContentIds)).toBe(false);
    const hasher = ids.hasher();
    hasher.update(bytes.subarray(0, 5));
    hasher.update(bytes.subarray(5));
    expect(hasher.digestHex()).toBe(id);
  });

  it("never shows the key: not the ring's, not the derived one", () => {
    const ids = keyedContentIds(new KeyRing([{ id: "a", key: keyA }]));
    const shown = `${inspect(ids, { depth: 10, showHidden: true })} ${JSON.stringify(ids)}`;
    expect(shown).not.toContain(keyA.toString("hex"));
    expect(shown).not.toContain(keyA.toString("base64"));
  });

  it("a store names by its encryption layer's keyed ids; a store without one by sha256", async () => {
    const plain = createMemoryBlobStore();
    expect(await contentIdsOf(plain)).toBe(sha256ContentIds);
    const ring = new KeyRing([{ id: "a", key: keyA }]);
    const sealed = createMemoryBlobStore({
      layers: [createCompressionLayer("auto"), createEncryptionLayer(ring)],
    });
    const bytes = Buffer.from("some body ".repeat(100));
    const id = await sealed.put(bytes);
    expect(id).toBe(keyedContentIds(ring).of(bytes));
    expect(Buffer.from(await sealed.get(id)).equals(bytes)).toBe(true);
    async function* twoChunks() {
      yield bytes.subarray(0, 7);
      yield bytes.subarray(7);
    }
    expect(await sealed.putStream(twoChunks())).toEqual({ id, bytes: bytes.byteLength });
  });

  it("reads bodies under ids of an older key after a rotation; a wrong id is refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-content-ids-"));
    try {
      const storeUnder = (keys: { id: string; key: Buffer }[]) =>
        createFsBlobStore({
          dir,
          layers: [createCompressionLayer("auto"), createEncryptionLayer(keys)],
        });
      const bytes = Buffer.from("written under key a ".repeat(40));
      const underA = await storeUnder([{ id: "a", key: keyA }]).put(bytes);
      const rotated = storeUnder([
        { id: "b", key: keyB },
        { id: "a", key: keyA },
      ]);
      // Proven by its tag (bound to this id), not by re-hashing under b's id key.
      expect(Buffer.from(await rotated.get(underA)).equals(bytes)).toBe(true);
      const underB = await rotated.put(bytes);
      expect(underB).not.toBe(underA);
      expect(Buffer.from(await rotated.get(underB)).equals(bytes)).toBe(true);
      // A body moved under another id fails its tag, whatever the id scheme.
      const files = await filesUnder(dir);
      const moved = join(dir, underB.slice(0, 2), underB.slice(2));
      const other = files.find((file) => !file.endsWith(underB.slice(2)))!;
      await import("node:fs/promises").then((fs) => fs.copyFile(other, moved));
      await expect(rotated.get(underB)).rejects.toMatchObject({
        code: SerdeErrorCode.decryptionFailed,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a serializer over an encrypted store names its blobs (chunks and manifests too) by keyed ids", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-content-ids-serde-"));
    try {
      const ring = new KeyRing([{ id: "a", key: keyA }]);
      const blobStore = createFsBlobStore({
        dir,
        layers: [createCompressionLayer("auto"), createEncryptionLayer(ring)],
      });
      const limits = { maxStringBytes: 1000, chunkMinBytes: 20_000, maxArrayLength: 100 };
      const serde = new RedactingSerializer({ blobStore, ...limits });
      const big = `MARKER-${"x".repeat(100)} ${randomBytes(40_000).toString("hex")}`;
      const small = `small-${randomBytes(3000).toString("hex")}`;
      const value = {
        big,
        small,
        list: Array.from({ length: 3000 }, (_, index) => `item ${index}`),
      };
      const [type, bytes] = await serde.dumpsTyped(value);
      expect(await serde.loadsTyped(type, bytes)).toEqual(value);
      const names = (await filesUnder(dir)).map((file) =>
        file.slice(dir.length).replace(/\//g, ""),
      );
      expect(names.length).toBeGreaterThan(2);
      const payload = Buffer.from(bytes).toString("utf8");
      for (const text of [big, small]) {
        const hash = sha256(text);
        expect(payload).not.toContain(hash);
        expect(names.some((name) => name.includes(hash))).toBe(false);
      }
      // The control: the same value through a plain store is named by those very hashes.
      const plainDir = join(dir, "..", `${dir.split("/").pop()}-plain`);
      try {
        const plainSerde = new RedactingSerializer({
          blobStore: createFsBlobStore({ dir: plainDir }),
          ...limits,
        });
        const [, plainBytes] = await plainSerde.dumpsTyped(value);
        expect(Buffer.from(plainBytes).toString("utf8")).toContain(sha256(small));
      } finally {
        await rm(plainDir, { recursive: true, force: true });
      }
      // Every stored file is sealed: its name is a keyed id, its bytes an envelope.
      for (const file of await filesUnder(dir))
        expect((await readFile(file)).subarray(0, 3).toString("latin1")).toBe("LGE");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
