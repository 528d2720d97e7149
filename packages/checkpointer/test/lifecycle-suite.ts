import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver, SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { type BlobStore, RedactingSerializer } from "@leangraph/serde";
import { blobReadOperations, createFaultyBlobStore } from "@leangraph/serde/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CheckpointerErrorCode,
  type LeanCheckpointSaver,
  type RetentionOptions,
} from "../src/index.js";
import {
  digestFiles,
  expectedDigest,
  generatedFile,
  runAppendWorkload,
} from "./fixtures/append-workload.js";

/** What one backend hands the shared lifecycle tests. */
export interface LifecycleHarness {
  saver: LeanCheckpointSaver;
  /** Item rows currently stored (to prove sweeps are exact). */
  itemCount(): Promise<number>;
  /** Ids of items whose body is held in the database (not in the blob store). */
  dbItemIds(): Promise<string[]>;
  /** XORs one byte (at `offset`) of a database-held item body; doing it twice restores it. */
  flipItemByte(id: string, offset: number): Promise<void>;
  /** A second saver on the same database with these options; closed by cleanup(). */
  reopen(options: {
    retention?: RetentionOptions;
    blobStore?: BlobStore;
    serde?: SerializerProtocol;
    itemCacheBytes?: number;
  }): Promise<LeanCheckpointSaver>;
  cleanup(): Promise<void>;
}

export type LifecycleFactory = (options: {
  serde?: (saver: { blobStore: LeanCheckpointSaver["blobStore"] }) => RedactingSerializer;
}) => Promise<LifecycleHarness>;

// Above the 64 KiB blob threshold, so every file is a blob in the store.
const fileBytes = 100_000;

async function blobIds(saver: LeanCheckpointSaver): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of saver.blobStore.list()) ids.push(id);
  return ids.sort();
}

async function filesAt(
  saver: LeanCheckpointSaver,
  threadId: string,
  checkpointId?: string,
): Promise<string[]> {
  const tuple = await saver.getTuple({
    configurable: { thread_id: threadId, checkpoint_id: checkpointId },
  });
  return (tuple?.checkpoint.channel_values.files as string[] | undefined) ?? [];
}

const DraftState = Annotation.Root({ draft: Annotation<string>(), step: Annotation<number>() });

/** A channel overwritten every step: old values become garbage once old checkpoints go. */
function buildDraftGraph(saver: LeanCheckpointSaver) {
  return new StateGraph(DraftState)
    .addNode("write", (state: typeof DraftState.State) => ({
      draft: generatedFile(1000 + state.step, fileBytes),
      step: state.step + 1,
    }))
    .addEdge(START, "write")
    .addConditionalEdges("write", (state: typeof DraftState.State) =>
      state.step >= 5 ? END : "write",
    )
    .compile({ checkpointer: saver });
}

export function describeLifecycle(name: string, create: LifecycleFactory): void {
  describe(`${name} lifecycle, forks and time travel`, () => {
    let harness: LifecycleHarness;
    let saver: LeanCheckpointSaver;
    beforeEach(async () => {
      harness = await create({});
      saver = harness.saver;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it("keeps a forked branch's value even when it reuses the version number of the other branch", async () => {
      const threadId = uuid6(-1);
      const root = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
      const meta = { source: "loop" as const, step: 0, parents: {} };
      const a = await saver.put(
        root,
        {
          ...emptyCheckpoint(),
          id: uuid6(-1),
          channel_values: { files: ["a"] },
          channel_versions: { files: 1 },
        },
        meta,
        { files: 1 },
      );
      const b = await saver.put(
        a,
        {
          ...emptyCheckpoint(),
          id: uuid6(-1),
          channel_values: { files: ["a", "b"] },
          channel_versions: { files: 2 },
        },
        meta,
        { files: 2 },
      );
      // Time travel: branch off `a` again; the new checkpoint's channel also gets version 2.
      const c = await saver.put(
        a,
        {
          ...emptyCheckpoint(),
          id: uuid6(-1),
          channel_values: { files: ["a", "c"] },
          channel_versions: { files: 2 },
        },
        meta,
        { files: 2 },
      );
      expect(await filesAt(saver, threadId, b.configurable?.checkpoint_id)).toEqual(["a", "b"]);
      expect(await filesAt(saver, threadId, c.configurable?.checkpoint_id)).toEqual(["a", "c"]);
      expect(await filesAt(saver, threadId, a.configurable?.checkpoint_id)).toEqual(["a"]);
    });

    it("fails with ERR_LG_CHECKPOINT_ITEM_CORRUPT naming item, thread and checkpoint when a stored body no longer matches its id", async () => {
      const threadId = "corrupt-body";
      // Every read goes to the database: the writer's item cache would answer from memory.
      const reader = await harness.reopen({ itemCacheBytes: 0 });
      const note = "n".repeat(2000);
      const list = Array.from({ length: 10 }, (_, index) => `${index}`.repeat(100));
      const written = "w".repeat(3000);
      const config = await saver.put(
        { configurable: { thread_id: threadId, checkpoint_ns: "" } },
        {
          ...emptyCheckpoint(),
          id: uuid6(-1),
          channel_values: { note, list },
          channel_versions: { note: 1, list: 1 },
        },
        { source: "input", step: -1, parents: {} },
        { note: 1, list: 1 },
      );
      await saver.putWrites(config, [["note", written]], "task-1");
      const checkpointId = config.configurable?.checkpoint_id as string;
      const read = () => reader.getTuple({ configurable: { thread_id: threadId } });
      const intact = await read();
      expect(intact?.checkpoint.channel_values).toEqual({ note, list });
      expect(intact?.pendingWrites).toEqual([["task-1", "note", written]]);

      const ids = await harness.dbItemIds();
      // The note value, the list's leaf node and the written value.
      expect(ids).toHaveLength(3);
      for (const id of ids) {
        await harness.flipItemByte(id, 40);
        const error = await read().then(
          () => undefined,
          (caught: unknown) => caught as { code?: string; message: string },
        );
        expect(error?.code).toBe("ERR_LG_CHECKPOINT_ITEM_CORRUPT");
        expect(error?.message).toContain(id);
        expect(error?.message).toContain(threadId);
        expect(error?.message).toContain(checkpointId);
        await harness.flipItemByte(id, 40);
        expect(await read()).toEqual(intact);
      }
    });

    it("reads through its item cache what it wrote, and meets the database again after a lifecycle operation", async () => {
      const threadId = "cached";
      const list = Array.from({ length: 10 }, (_, index) => `${index}`.repeat(100));
      await saver.put(
        { configurable: { thread_id: threadId, checkpoint_ns: "" } },
        {
          ...emptyCheckpoint(),
          id: uuid6(-1),
          channel_values: { list },
          channel_versions: { list: 1 },
        },
        { source: "input", step: -1, parents: {} },
        { list: 1 },
      );
      const read = (from: LeanCheckpointSaver) =>
        from.getTuple({ configurable: { thread_id: threadId } }).then(
          (tuple) => tuple?.checkpoint.channel_values,
          (caught: unknown) => (caught as { code?: string }).code,
        );
      const [leafId] = await harness.dbItemIds();
      await harness.flipItemByte(leafId!, 40);
      // The damage is on disk: a saver reading it from there fails loudly; the writer still holds
      // the body it wrote (content-addressed, so it is the right one) and reads the value.
      expect(await read(await harness.reopen({}))).toBe("ERR_LG_CHECKPOINT_ITEM_CORRUPT");
      expect(await read(saver)).toEqual({ list });
      // gc (as deleteThread and prune do) empties the cache: the next read meets the database.
      // The leaf is repaired for the gc itself: stored compressed, a damaged leaf cannot be
      // decoded, and gc then stops rather than guess which items it names.
      await harness.flipItemByte(leafId!, 40);
      await saver.gc({ graceMs: 0 });
      await harness.flipItemByte(leafId!, 40);
      expect(await read(saver)).toBe("ERR_LG_CHECKPOINT_ITEM_CORRUPT");
      await expect(saver.gc({ graceMs: 0 })).rejects.toMatchObject({
        code: CheckpointerErrorCode.rowCorrupt,
      });
      await harness.flipItemByte(leafId!, 40);
      expect(await read(saver)).toEqual({ list });
    });

    it("time-travels and forks a real graph; both branches stay exact", async () => {
      const { graph, config } = await runAppendWorkload(saver, {
        steps: 4,
        fileBytes,
        threadId: "main",
      });
      const history = [];
      for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
      const atTwo = history.find((snapshot) => (snapshot.values.files as string[]).length === 2)!;
      const forkConfig = await graph.updateState(atTwo.config, { files: ["edited by hand"] });
      await graph.invoke(null, { ...forkConfig, recursionLimit: 20 });
      // The fork is now the thread's newest checkpoint.
      const fork = (await graph.getState({ configurable: { thread_id: "main" } })).values
        .files as string[];
      expect(fork.slice(0, 3)).toEqual([
        generatedFile(0, fileBytes),
        generatedFile(1, fileBytes),
        "edited by hand",
      ]);
      expect(fork).toHaveLength(4);
      expect(fork[3]).toBe(generatedFile(3, fileBytes));
      // The original branch's head is untouched by the fork.
      const originalHead = history[0]!;
      expect(digestFiles(originalHead.values.files)).toBe(expectedDigest(4, fileBytes));
      expect(
        digestFiles(await filesAt(saver, "main", originalHead.config.configurable?.checkpoint_id)),
      ).toBe(expectedDigest(4, fileBytes));
    });

    it("deleteThread removes only what no other thread references", async () => {
      await runAppendWorkload(saver, { steps: 3, fileBytes, threadId: "one" });
      await runAppendWorkload(saver, { steps: 3, fileBytes, threadId: "two" });
      const shared = await blobIds(saver);
      expect(shared).toHaveLength(3);
      await saver.deleteThread("one");
      expect(await saver.getTuple({ configurable: { thread_id: "one" } })).toBeUndefined();
      expect(await blobIds(saver)).toEqual(shared);
      expect(digestFiles(await filesAt(saver, "two"))).toBe(expectedDigest(3, fileBytes));
      await saver.deleteThread("two");
      expect(await blobIds(saver)).toEqual([]);
      expect(await harness.itemCount()).toBe(0);
    });

    it("prune keeps the newest checkpoints and frees what only older ones used", async () => {
      const graph = buildDraftGraph(saver);
      const config = { configurable: { thread_id: "draft" } };
      await graph.invoke({ step: 0 }, config);
      expect(await blobIds(saver)).toHaveLength(5);
      const before = (await graph.getState(config)).values;
      const report = await saver.prune(["draft"], { keepLast: 1 });
      expect(report.deletedCheckpoints).toBeGreaterThan(0);
      const remaining = [];
      for await (const tuple of saver.list(config)) remaining.push(tuple);
      expect(remaining).toHaveLength(1);
      expect((await graph.getState(config)).values).toEqual(before);
      expect(await blobIds(saver)).toHaveLength(1);
      // The pruned thread still runs on from its newest checkpoint.
      await graph.invoke({ step: 4 }, config);
      expect((await graph.getState(config)).values.step).toBe(5);
    });

    it("copyThread duplicates rows, not payloads, and survives deletion of the original", async () => {
      await runAppendWorkload(saver, { steps: 3, fileBytes, threadId: "source" });
      const blobsBefore = await blobIds(saver);
      await saver.copyThread("source", "copy");
      expect(await blobIds(saver)).toEqual(blobsBefore);
      const sourceHistory = [];
      for await (const tuple of saver.list({ configurable: { thread_id: "source" } }))
        sourceHistory.push(tuple);
      const copyHistory = [];
      for await (const tuple of saver.list({ configurable: { thread_id: "copy" } }))
        copyHistory.push(tuple);
      expect(copyHistory.map((tuple) => tuple.checkpoint)).toEqual(
        sourceHistory.map((tuple) => tuple.checkpoint),
      );
      await saver.deleteThread("source");
      expect(digestFiles(await filesAt(saver, "copy"))).toBe(expectedDigest(3, fileBytes));
      await expect(saver.copyThread("copy", "copy")).rejects.toMatchObject({
        code: "ERR_LG_CHECKPOINT_CONFIG_INVALID",
      });
    });

    it("gc spares young orphans and every live blob, and removes old orphans", async () => {
      await runAppendWorkload(saver, { steps: 2, fileBytes, threadId: "live" });
      const live = await blobIds(saver);
      // What a crash between writing a blob and committing its row leaves behind.
      const orphan = await saver.blobStore.put(new TextEncoder().encode("orphan of a crashed put"));
      expect((await saver.gc({ graceMs: 60_000 })).deletedBlobs).toBe(0);
      expect(await saver.blobStore.has(orphan)).toBe(true);
      const report = await saver.gc({ graceMs: 0 });
      expect(report.deletedBlobs).toBe(1);
      expect(await saver.blobStore.has(orphan)).toBe(false);
      expect(await blobIds(saver)).toEqual(live);
      expect(digestFiles(await filesAt(saver, "live"))).toBe(expectedDigest(2, fileBytes));
    });
  });

  describe(`${name} with a RedactingSerializer sharing its blob store`, () => {
    let harness: LifecycleHarness;
    beforeEach(async () => {
      // A low threshold so every generated file is externalized by the serializer itself.
      harness = await create({
        serde: ({ blobStore }) => new RedactingSerializer({ blobStore, maxStringBytes: 1024 }),
      });
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it("rejects an unstorable element before any blob is written, naming channel and position", async () => {
      const saver = harness.saver;
      const threadId = "rejected-put";
      const first = await saver.put(
        { configurable: { thread_id: threadId, checkpoint_ns: "" } },
        {
          ...emptyCheckpoint(),
          id: uuid6(-1),
          channel_values: { files: ["a".repeat(5000)] },
          channel_versions: { files: 1 },
        },
        { source: "input", step: -1, parents: {} },
        { files: 1 },
      );
      const blobsBefore = await blobIds(saver);
      const itemsBefore = await harness.itemCount();
      const tupleBefore = await saver.getTuple({ configurable: { thread_id: threadId } });
      const bigString = "b".repeat(300_000);
      const rejectedPuts: [string, Record<string, unknown>, string][] = [
        // Element 0 would be serialized (and its blob written) alone before element 2 fails.
        ["files", { files: [bigString, "ok", () => 1] }, "files[2] is a function"],
        // One channel's blob would be written before the next channel fails.
        [
          "notes",
          { files: [bigString], notes: { deep: [1, { fn: Symbol("s") }] } },
          "notes.deep[1].fn is a symbol",
        ],
      ];
      for (const [channel, channelValues, expected] of rejectedPuts) {
        const versions = Object.fromEntries(Object.keys(channelValues).map((key) => [key, 2]));
        const error = await saver
          .put(
            first,
            {
              ...emptyCheckpoint(),
              id: uuid6(-1),
              channel_values: channelValues,
              channel_versions: versions,
            },
            { source: "loop", step: 0, parents: {} },
            versions,
          )
          .then(
            () => undefined,
            (caught: unknown) => caught as { code?: string; message: string },
          );
        expect(error?.code).toBe("ERR_LG_UNSERIALIZABLE");
        expect(error?.message).toContain(`channel "${channel}"`);
        expect(error?.message).toContain(expected);
        expect(await blobIds(saver)).toEqual(blobsBefore);
        expect(await harness.itemCount()).toBe(itemsBefore);
        expect(await saver.getTuple({ configurable: { thread_id: threadId } })).toEqual(
          tupleBefore,
        );
      }
      const writeError = await saver
        .putWrites(first, [["files", [bigString, new Map([["k", () => 1]])]]], "task-1")
        .then(
          () => undefined,
          (caught: unknown) => caught as { code?: string; message: string },
        );
      expect(writeError?.code).toBe("ERR_LG_UNSERIALIZABLE");
      expect(writeError?.message).toContain("writes[0][1][0][1] is a function");
      expect(await blobIds(saver)).toEqual(blobsBefore);
      expect(await harness.itemCount()).toBe(itemsBefore);
    });

    it("list filters metadata exactly as MemorySaver does, also for values kept outside the row", async () => {
      const long = "n".repeat(5000);
      const put = async (checkpointer: BaseCheckpointSaver) => {
        let config = { configurable: { thread_id: "filtered", checkpoint_ns: "" } } as {
          configurable: Record<string, unknown>;
        };
        for (let step = 0; step < 8; step += 1) {
          const metadata = {
            source: step % 3 === 0 ? "input" : "loop",
            step,
            parents: {},
            note: step % 2 === 0 ? long : "short",
            flag: step === 5 ? null : step % 2 === 0,
            nested: { a: step },
          };
          config = (await checkpointer.put(
            config,
            { ...emptyCheckpoint(), id: uuid6(step), channel_values: {}, channel_versions: {} },
            metadata as never,
            {},
          )) as typeof config;
        }
      };
      const reference = new MemorySaver();
      await put(reference);
      await put(harness.saver);
      const steps = async (checkpointer: BaseCheckpointSaver, filter: Record<string, unknown>) => {
        const found: unknown[] = [];
        for await (const tuple of checkpointer.list(
          { configurable: { thread_id: "filtered" } },
          { filter },
        ))
          found.push(tuple.metadata?.step);
        return found;
      };
      for (const filter of [
        { source: "input" },
        { step: 3 },
        { source: "loop", step: 4 },
        { note: long },
        { note: "short", source: "loop" },
        { flag: null },
        { flag: false },
        { absent: null },
        { nested: { a: 1 } },
        { 'odd "key"': 1 },
      ]) {
        expect(await steps(harness.saver, filter)).toEqual(await steps(reference, filter));
      }
      expect(await steps(harness.saver, { note: long })).toEqual([6, 4, 2, 0]);
    });

    it("gc deletes no blob live state needs, whichever blob-store read fails (EIO at every position)", async () => {
      const faulty = createFaultyBlobStore(harness.saver.blobStore);
      // Ten strings in an array longer than maxArrayLength: the serializer writes the array as a
      // JSON blob whose elements reference the string blobs.
      const saver = await harness.reopen({
        blobStore: faulty,
        serde: new RedactingSerializer({
          blobStore: faulty,
          maxStringBytes: 1024,
          maxArrayLength: 4,
        }),
      });
      const doc = { parts: Array.from({ length: 10 }, (_, index) => `${index}`.repeat(5000)) };
      const config = await saver.put(
        { configurable: { thread_id: "nested", checkpoint_ns: "" } },
        {
          ...emptyCheckpoint(),
          id: uuid6(-1),
          channel_values: { doc },
          channel_versions: { doc: 1 },
        },
        { source: "input", step: -1, parents: {} },
        { doc: 1 },
      );
      const expected = await saver.getTuple(config);
      expect(expected?.checkpoint.channel_values.doc).toEqual(doc);
      const liveBlobs = await blobIds(saver);
      expect(liveBlobs.length).toBeGreaterThanOrEqual(11);
      const orphan = await faulty.put(new TextEncoder().encode("left by a crashed put"));

      faulty.plan({ operations: blobReadOperations });
      await saver.gc({ graceMs: 0 });
      const positions = faulty.operationCount;
      await faulty.put(new TextEncoder().encode("left by a crashed put"));
      for (let failAt = 1; failAt <= positions + 1; failAt += 1) {
        faulty.plan({ failAt, operations: blobReadOperations });
        const outcome = await saver.gc({ graceMs: 0 }).then(
          () => "completed",
          (error: { code?: string }) => error.code,
        );
        expect(["completed", "ERR_LG_BLOB_READ_FAILED"]).toContain(outcome);
        faulty.plan({});
        expect(await blobIds(saver)).toEqual(expect.arrayContaining(liveBlobs));
        expect(await saver.getTuple(config)).toEqual(expected);
      }
      // gc never needs a blob's content: a store whose reads of content always fail still collects.
      faulty.plan({ failAt: 1, sticky: true, operations: ["get", "getStream"] });
      await faulty.put(new TextEncoder().encode("another orphan"));
      expect((await saver.gc({ graceMs: 0 })).deletedBlobs).toBe(1);
      faulty.plan({});
      expect(await blobIds(saver)).toEqual(liveBlobs);
      expect(await faulty.has(orphan)).toBe(false);
      expect(await saver.getTuple(config)).toEqual(expected);
    });

    it("never collects a blob referenced from inside a live payload, and frees it with its thread", async () => {
      const saver = harness.saver;
      await runAppendWorkload(saver, { steps: 3, fileBytes, threadId: "redacted" });
      const blobs = await blobIds(saver);
      expect(blobs.length).toBeGreaterThanOrEqual(3);
      await saver.gc({ graceMs: 0 });
      expect(await blobIds(saver)).toEqual(blobs);
      expect(digestFiles(await filesAt(saver, "redacted"))).toBe(expectedDigest(3, fileBytes));
      await saver.deleteThread("redacted");
      expect(await blobIds(saver)).toEqual([]);
    });
  });
}
