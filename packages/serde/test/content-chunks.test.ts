import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkBoundaries, chunkSizes, contentChunks } from "../src/redacting/content-chunks.js";
import { blobClosureOf } from "../src/redacting/prepared-payload.js";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";
import { countingStore, listBlobs } from "./helpers.js";

const kb = 1024;

/** A file of `lines` distinct 72-char lines; `edit` replaces lines [from, to) by other text. */
function file(lines: number, edit?: { from: number; to: number; label: string }): string {
  return Array.from({ length: lines }, (_, index) => {
    const label = edit && index >= edit.from && index < edit.to ? edit.label : "v0";
    return `${createHash("sha256").update(`${label} ${index}`).digest("hex")}`.padEnd(71, "-");
  }).join("\n");
}

function ids(chunks: Uint8Array[]): string[] {
  return chunks.map((chunk) => createHash("sha256").update(chunk).digest("hex"));
}

describe("content-defined chunks", () => {
  it("cover the bytes exactly, within the size bounds", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300_000 }), (bytes) => {
        const chunks = contentChunks(bytes);
        expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
        for (const [index, chunk] of chunks.entries()) {
          expect(chunk.byteLength).toBeLessThanOrEqual(chunkSizes.maxBytes);
          if (index < chunks.length - 1)
            expect(chunk.byteLength).toBeGreaterThan(chunkSizes.minBytes);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("an insertion or a 1% edit changes only the chunks around it", () => {
    const original = Buffer.from(file(4000));
    const before = new Set(ids(contentChunks(original)));
    for (const changed of [
      Buffer.from(file(4000, { from: 2000, to: 2040, label: "edited" })),
      Buffer.concat([
        original.subarray(0, 100_000),
        Buffer.from("inserted\n"),
        original.subarray(100_000),
      ]),
    ]) {
      const after = contentChunks(changed);
      const fresh = after.filter((_, index) => !before.has(ids(after)[index]!));
      expect(fresh.length).toBeLessThanOrEqual(3);
      expect(fresh.reduce((sum, chunk) => sum + chunk.byteLength, 0)).toBeLessThan(
        chunkSizes.maxBytes,
      );
    }
    expect(chunkBoundaries(original)).toEqual(chunkBoundaries(Buffer.from(original)));
  });

  it("a new version of a chunked string stores only its new chunks, and reads back exact", async () => {
    const blobStore = countingStore(createMemoryBlobStore());
    const serializer = new RedactingSerializer({ blobStore });
    const v0 = file(4000);
    const v1 = file(4000, { from: 1234, to: 1274, label: "v1" });
    const [, first] = await serializer.dumpsTyped({ path: "a.ts", text: v0 });
    const writesAfterFirst = blobStore.writes();
    const storedAfterFirst = (await listBlobs(blobStore)).length;
    const [, second] = await serializer.dumpsTyped({ path: "a.ts", text: v1 });
    // A new manifest and the chunk or two around the edit: not the whole 290 KB again.
    expect((await listBlobs(blobStore)).length - storedAfterFirst).toBeLessThanOrEqual(4);
    expect(blobStore.writes() - writesAfterFirst).toBeLessThanOrEqual(4);
    const reader = new RedactingSerializer({ blobStore });
    expect(await reader.loadsTyped("json", first)).toEqual({ path: "a.ts", text: v0 });
    expect(await reader.loadsTyped("json", second)).toEqual({ path: "a.ts", text: v1 });
    const [payload] = await serializer.prepare([{ text: v1 }]);
    expect(new Set(blobClosureOf(payload!))).toEqual(
      new Set(await serializer.referencedBlobIds("json", payload!.bytes)),
    );
  });

  it("chunks binaries too, and fails naming the chunk and the value when one is missing", async () => {
    const blobStore = createMemoryBlobStore();
    const serializer = new RedactingSerializer({ blobStore });
    const bytes = new Uint8Array(300 * kb).map((_, index) => (index * 7919) % 251);
    const [type, payload] = await serializer.dumpsTyped({ bytes });
    expect(await new RedactingSerializer({ blobStore }).loadsTyped(type, payload)).toEqual({
      bytes,
    });
    const [prepared] = await serializer.prepare([{ bytes }]);
    // The payload names the chunk list, which names the chunks.
    const chunkId = prepared!.blobChildren.get(prepared!.blobIds[0]!)![1]!;
    await blobStore.delete(chunkId);
    const error = await new RedactingSerializer({ blobStore }).loadsTyped(type, payload).then(
      () => undefined,
      (caught: unknown) => caught as { code?: string; message: string },
    );
    expect(error?.code).toBe("ERR_LG_BLOB_MISSING");
    expect(error?.message).toContain(chunkId);
    expect(error?.message).toMatch(/Chunk \d+ of \d+/);
  });

  it("rewrites a chunk a gc removed when the string is stored again from the cache", async () => {
    const blobStore = createMemoryBlobStore();
    const serializer = new RedactingSerializer({ blobStore });
    const text = file(4000);
    await serializer.dumpsTyped({ text });
    const [prepared] = await serializer.prepare([{ text }]);
    const needed = blobClosureOf(prepared!);
    for (const id of needed.slice(0, 3)) await blobStore.delete(id);
    await serializer.writeBlobs([prepared!]);
    for (const id of needed) expect(await blobStore.has(id)).toBe(true);
    expect(
      await new RedactingSerializer({ blobStore }).loadsTyped("json", prepared!.bytes),
    ).toEqual({
      text,
    });
  });
});
