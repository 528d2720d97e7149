import { join } from "node:path";
import { RedactingSerializer } from "@leangraph/serde";
import { afterEach, describe, expect, it } from "vitest";
import { CheckpointerErrorCode } from "../src/index.js";
import { checkReferences, storageBreakdown, storedCheckpoints } from "../src/inspect/index.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { runAppendWorkload } from "./fixtures/append-workload.js";
import { makeTempDir } from "./helpers.js";

// Above the serializer's 200 KiB string limit: each file becomes a serializer blob referenced
// from inside an item, the case where "orphan" must follow references the way gc does.
const fileBytes = 300_000;

async function blobIds(saver: LeanSqliteSaver): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const id of saver.blobStore.list()) ids.add(id);
  return ids;
}

describe("inspect modules", () => {
  const temp = makeTempDir("inspect");
  let saver: LeanSqliteSaver;
  afterEach(async () => {
    await saver.close();
    temp.remove();
  });

  // Uncompressed, so the byte counts below are the values' own sizes.
  function open(): LeanSqliteSaver {
    const path = join(temp.dir, "checkpoints.sqlite");
    const plain = LeanSqliteSaver.fromConnString(path, { compression: "off" });
    const blobStore = plain.blobStore;
    return LeanSqliteSaver.fromConnString(path, {
      compression: "off",
      blobStore,
      serde: new RedactingSerializer({ blobStore }),
    });
  }

  it("storedCheckpoints lists a thread's checkpoints and write counts without reading values", async () => {
    saver = open();
    await runAppendWorkload(saver, { steps: 3, fileBytes, threadId: "t" });
    const stored = await storedCheckpoints(saver, "t");
    const listed = [];
    for await (const tuple of saver.list({ configurable: { thread_id: "t" } })) listed.push(tuple);
    expect(stored.map((entry) => entry.checkpointId)).toEqual(
      listed.map((tuple) => tuple.config.configurable?.checkpoint_id),
    );
    expect(stored.map((entry) => entry.ts)).toEqual(listed.map((tuple) => tuple.checkpoint.ts));
    expect(stored.map((entry) => entry.writeCount)).toEqual(
      listed.map((tuple) => tuple.pendingWrites?.length ?? 0),
    );
    expect(await storedCheckpoints(saver, "no-such-thread")).toEqual([]);
  });

  it("storageBreakdown: orphan blobs are exactly what gc deletes, and live content is counted once", async () => {
    saver = open();
    await runAppendWorkload(saver, { steps: 4, fileBytes, threadId: "a" });
    await saver.copyThread("a", "b");
    const before = await storageBreakdown(saver);
    expect(before.orphanBlobs).toEqual([]);
    expect(before.missingPieces).toBe(0);
    expect(before.threads.map((thread) => thread.threadId).sort()).toEqual(["a", "b"]);
    // Both threads reach the same files; the store holds them once.
    const files = before.channels.find((channel) => channel.channel === "files")!;
    expect(files.bytes).toBeGreaterThanOrEqual(4 * fileBytes);
    expect(files.bytes).toBeLessThan(4 * fileBytes * 1.1);
    expect(before.threads[0]!.channels[0]!.channel).toBe("files");

    // Make garbage: drop thread b, prune a to its newest checkpoint (old states go), add a stray blob.
    await saver.deleteThread("b");
    await saver.prune(["a"], { keepLast: 1 });
    const stray = await saver.blobStore.put(Buffer.from("left by a crashed put"));
    const after = await storageBreakdown(saver);
    const reported = new Set(after.orphanBlobs.map((blob) => blob.id));
    expect(reported.has(stray)).toBe(true);

    const present = await blobIds(saver);
    await saver.gc({ graceMs: 0 });
    const remaining = await blobIds(saver);
    const deleted = new Set([...present].filter((id) => !remaining.has(id)));
    expect(reported).toEqual(deleted);
    // What is left reads back whole.
    const latest = await saver.getTuple({ configurable: { thread_id: "a" } });
    expect((latest!.checkpoint.channel_values.files as string[]).length).toBe(4);
    expect((await storageBreakdown(saver)).orphanBlobs).toEqual([]);
  });

  it("checkReferences names each missing or altered piece once, with the first row that reaches it", async () => {
    saver = open();
    await runAppendWorkload(saver, { steps: 3, fileBytes, threadId: "t" });
    expect((await checkReferences(saver)).damaged).toEqual([]);
    // Each file is a serializer blob; drop one. Alter a tree node held in the database.
    const [blobId] = [...(await blobIds(saver))];
    await saver.blobStore.delete(blobId!);
    const node = saver.db
      .prepare("SELECT lower(hex(id)) AS id FROM lg_items WHERE kind = 'leaf' ORDER BY id LIMIT 1")
      .get() as { id: string };
    saver.db
      .prepare("UPDATE lg_items SET body = CAST('L' AS BLOB) WHERE id = unhex(?)")
      .run(node.id);

    const { damaged } = await checkReferences(saver);
    expect(damaged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: blobId,
          kind: "serializer blob",
          problem: "missing",
          inBlobStore: true,
        }),
        expect.objectContaining({
          id: node.id,
          kind: "tree node",
          problem: "corrupt",
          inBlobStore: false,
        }),
      ]),
    );
    for (const entry of damaged) {
      expect(entry).toMatchObject({
        threadId: "t",
        reference: expect.stringMatching(/^(channel|write) /),
      });
    }
    // Named once each, however many checkpoints reach them.
    expect(new Set(damaged.map((entry) => entry.id)).size).toBe(damaged.length);
  });
});

describe("inspect on something that is not a lean saver", () => {
  it("refuses with a coded error naming what it got", async () => {
    const refusal = await storedCheckpoints(new Map() as never, "t").catch((error) => error);
    expect(refusal).toMatchObject({ code: CheckpointerErrorCode.invalidOption });
    expect(refusal.message).toContain("Map");
  });
});
