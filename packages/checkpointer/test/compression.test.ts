import { createHash } from "node:crypto";
import { join } from "node:path";
import { type CompressionSetting, decodeBody, storedBodyCodec } from "@leangraph/serde";
import { afterEach, describe, expect, it } from "vitest";
import { CheckpointerErrorCode, compact } from "../src/index.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import {
  buildAppendGraph,
  digestFiles,
  expectedDigest,
  runAppendWorkload,
} from "./fixtures/append-workload.js";
import { makeTempDir } from "./helpers.js";

// 8 KB files stay in the database as value items; 100 KB ones go to the blob store.
const smallFile = 8_000;
const bigFile = 100_000;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("compressed stored bodies", () => {
  const temp = makeTempDir("compression");
  const path = join(temp.dir, "checkpoints.sqlite");
  const open = (compression: CompressionSetting) =>
    LeanSqliteSaver.fromConnString(path, { compression });
  let saver: LeanSqliteSaver | undefined;
  afterEach(async () => {
    await saver?.close();
    saver = undefined;
    temp.remove();
  });

  async function digestOf(threadId: string, fileBytes: number): Promise<string> {
    const state = await buildAppendGraph(saver!, fileBytes).getState({
      configurable: { thread_id: threadId },
    });
    return digestFiles(state.values.files as string[]);
  }

  function valueBodies(): { id: string; body: Buffer }[] {
    return saver!.db
      .prepare(
        "SELECT lower(hex(id)) AS id, body FROM lg_items WHERE kind = 'value' AND in_blob_store = 0",
      )
      .all() as { id: string; body: Buffer }[];
  }

  it("stores value bodies compressed in the database and the blob store, under their plain bytes' ids", async () => {
    saver = open("auto");
    await runAppendWorkload(saver, { steps: 3, fileBytes: smallFile, threadId: "small" });
    await runAppendWorkload(saver, { steps: 2, fileBytes: bigFile, threadId: "big" });
    expect(await digestOf("small", smallFile)).toBe(expectedDigest(3, smallFile));
    expect(await digestOf("big", bigFile)).toBe(expectedDigest(2, bigFile));

    const compressed = valueBodies().filter(({ body }) => storedBodyCodec(body) === "brotli");
    expect(compressed.length).toBeGreaterThanOrEqual(3);
    for (const { id, body } of compressed) {
      const plain = decodeBody(body, id);
      expect(sha256(plain)).toBe(id);
      expect(body.byteLength).toBeLessThan(plain.byteLength * 0.7);
    }
    let compressedBlobs = 0;
    for await (const id of saver.blobStore.list()) {
      const plain = await saver.blobStore.get(id);
      expect(sha256(plain)).toBe(id);
      if ((await saver.blobStore.stat(id))!.bytes < plain.byteLength * 0.7) compressedBlobs += 1;
    }
    expect(compressedBlobs).toBeGreaterThanOrEqual(2);
  });

  it("reads bodies stored plain (before compression) and writes new ones compressed, and back", async () => {
    saver = open("off");
    await runAppendWorkload(saver, { steps: 2, fileBytes: smallFile, threadId: "old" });
    await runAppendWorkload(saver, { steps: 1, fileBytes: bigFile, threadId: "old-big" });
    expect(valueBodies().every(({ body }) => storedBodyCodec(body) === "none")).toBe(true);
    await saver.close();

    saver = open("auto");
    expect(await digestOf("old", smallFile)).toBe(expectedDigest(2, smallFile));
    expect(await digestOf("old-big", bigFile)).toBe(expectedDigest(1, bigFile));
    await runAppendWorkload(saver, { steps: 2, fileBytes: smallFile, threadId: "new" });
    await saver.close();

    saver = open("off");
    expect(await digestOf("new", smallFile)).toBe(expectedDigest(2, smallFile));
  });

  it("compact, stopped after its first batch, resumes where it stopped; every value reads the same", async () => {
    // Over 200 value items (compact's batch), so the stop falls between two batches.
    const steps = 230;
    saver = open("off");
    await runAppendWorkload(saver, { steps, fileBytes: 2_000, threadId: "many" });
    await runAppendWorkload(saver, { steps: 2, fileBytes: bigFile, threadId: "big" });
    const plainBodies = valueBodies().length;
    expect(plainBodies).toBeGreaterThan(200);
    await saver.close();

    saver = open("auto");
    const stop = new AbortController();
    const first = await compact(saver, {
      signal: stop.signal,
      onProgress: () => stop.abort(),
    });
    expect(first).toMatchObject({ interrupted: true, phase: "items", blobs: { rewritten: 0 } });
    expect(first.items.rewritten).toBeGreaterThan(0);
    expect(first.items.rewritten).toBeLessThan(plainBodies);
    const stillPlain = () =>
      valueBodies().filter(
        ({ id, body }) => sha256(body) === id && storedBodyCodec(body) === "none",
      );
    expect(stillPlain().length).toBe(plainBodies - first.items.rewritten);

    const rest = await compact(saver);
    expect(rest).toMatchObject({ interrupted: false, phase: "done", compression: "brotli-4" });
    expect(first.items.rewritten + rest.items.rewritten).toBe(plainBodies);
    expect(rest.blobs.rewritten).toBe(2);
    expect(stillPlain()).toEqual([]);
    expect(await compact(saver)).toMatchObject({
      items: { rewritten: 0 },
      blobs: { rewritten: 0 },
    });
    await saver.close();

    saver = open("off");
    expect(await digestOf("many", 2_000)).toBe(expectedDigest(steps, 2_000));
    expect(await digestOf("big", bigFile)).toBe(expectedDigest(2, bigFile));
  });

  it("stores array leaves compressed; reads, gc and a saver with compression off see through them", async () => {
    // 300-byte elements live inside their leaves, so every append rewrites the open tail leaf.
    const inlineFile = 300;
    saver = open("auto");
    await runAppendWorkload(saver, { steps: 40, fileBytes: inlineFile, threadId: "inline" });
    const leaves = saver.db
      .prepare("SELECT lower(hex(id)) AS id, body FROM lg_items WHERE kind = 'leaf'")
      .all() as {
      id: string;
      body: Buffer;
    }[];
    const compressed = leaves.filter(({ body }) => storedBodyCodec(body) === "brotli");
    expect(compressed.length).toBeGreaterThan(leaves.length / 2);
    for (const { id, body } of compressed) expect(sha256(decodeBody(body, id))).toBe(id);
    // gc walks every leaf for its children: a leaf it could not read would fail it.
    expect((await saver.gc({ graceMs: 0 })).deletedItems).toBe(0);
    expect(await digestOf("inline", inlineFile)).toBe(expectedDigest(40, inlineFile));
    await saver.close();

    saver = open("off");
    expect(await digestOf("inline", inlineFile)).toBe(expectedDigest(40, inlineFile));
  });

  it("fails a damaged compressed item body with ERR_LG_ITEM_CORRUPT, never other bytes", async () => {
    saver = open("auto");
    await runAppendWorkload(saver, { steps: 1, fileBytes: smallFile, threadId: "t" });
    const [victim] = valueBodies().filter(({ body }) => storedBodyCodec(body) !== "none");
    const damaged = Buffer.from(victim!.body);
    damaged[damaged.byteLength - 5]! ^= 0xff;
    saver.db.prepare("UPDATE lg_items SET body = ? WHERE id = unhex(?)").run(damaged, victim!.id);
    await saver.close();
    saver = open("auto");
    await expect(digestOf("t", smallFile)).rejects.toMatchObject({
      code: CheckpointerErrorCode.itemCorrupt,
    });
  });
});
