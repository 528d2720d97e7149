import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatReference, referencesInBytes } from "../src/reference-format.js";
import { scanBlob } from "../src/referenced-blobs.js";
import { createFsBlobStore } from "../src/stores/fs.js";

const idA = "a".repeat(64);
const idB = "b".repeat(64);

describe("referencesInBytes", () => {
  it("finds every well-formed reference in UTF-8 bytes, with its kind, and nothing else", () => {
    const text = JSON.stringify([
      formatReference("s", idA),
      `prose with ${formatReference("j", idB)} inside`,
      "\uE000lg:ref:x:" + idA, // unknown kind
      `\uE000lg:ref:s:${"A".repeat(64)}`, // not lowercase hex
      `\uE000lg:ref:a:${idA.slice(0, 63)}`, // cut short at the end
    ]);
    expect(referencesInBytes(Buffer.from(text, "utf8"))).toEqual([
      { kind: "s", id: idA },
      { kind: "j", id: idB },
    ]);
  });
});

describe("scanBlob", () => {
  const dir = mkdtempSync(join(tmpdir(), "lg-scan-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("sees a reference that a stream chunk boundary cuts in two", async () => {
    const store = createFsBlobStore({ dir });
    // fs streams read 64 KiB chunks: put a reference across the first boundary.
    const reference = Buffer.from(formatReference("o", idA), "utf8");
    const bytes = Buffer.concat([
      Buffer.alloc(64 * 1024 - 20, 0x20),
      reference,
      Buffer.alloc(200 * 1024, 0x20),
    ]);
    const id = await store.put(bytes);
    const found: string[] = [];
    let windows = 0;
    await scanBlob(store, id, (window) => {
      windows += 1;
      for (const { kind, id: blobId } of referencesInBytes(window)) found.push(`${kind}:${blobId}`);
    });
    expect(windows).toBeGreaterThan(1);
    expect(found).toEqual([`o:${idA}`]);
  });
});
