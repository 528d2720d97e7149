import { join } from "node:path";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diskUsage } from "../src/inspect/disk-usage.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { digestFiles, expectedDigest, runAppendWorkload } from "./fixtures/append-workload.js";
import { makeTempDir } from "./helpers.js";

// Issue 3's workload: one unique 200 KB file appended per step to an array channel (concat
// reducer) of a real StateGraph. The stock SqliteSaver stores the whole array in every row
// (1.06 GB at 100 steps); storage here must track the unique payload.
const fileBytes = 200_000;

describe.each([100, 1_000])(
  "LeanSqliteSaver on the append workload, %i steps x 200 KB",
  (steps) => {
    const temp = makeTempDir(`growth-${steps}`);
    const dbPath = join(temp.dir, "checkpoints.sqlite");
    const uniquePayloadBytes = steps * fileBytes;
    let saver: LeanSqliteSaver;

    beforeAll(() => {
      saver = LeanSqliteSaver.fromConnString(dbPath);
    });
    afterAll(async () => {
      await saver.close();
      temp.remove();
    });

    it("stores at most 1.05 x the unique payload, rows <= 4 KB, and getState returns the identical state", async () => {
      const { graph, config } = await runAppendWorkload(saver, {
        steps,
        fileBytes,
        threadId: "append",
      });

      const state = await graph.getState(config);
      expect(state.values.files).toHaveLength(steps);
      expect(digestFiles(state.values.files)).toBe(expectedDigest(steps, fileBytes));

      // Measured while the saver is open, as real file sizes: st_size of the database, its -wal
      // and -shm, and every file in the blob directory. The saver folds its WAL back once writes
      // pause for 100 ms (as they do between an agent's LLM calls); give it that pause.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const onDisk = await diskUsage([dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}.blobs`]);
      const stats = await saver.storageStats();
      console.info(
        `[storage] ${steps} steps: unique ${uniquePayloadBytes} B, on disk ${onDisk.apparentBytes} B ` +
          `(${(onDisk.apparentBytes / uniquePayloadBytes).toFixed(3)}x; du-style allocated ` +
          `${onDisk.allocatedBytes} B = ${(onDisk.allocatedBytes / uniquePayloadBytes).toFixed(3)}x), ` +
          `db ${stats.dbBytes} B, largest checkpoint row ${stats.largestCheckpointRowBytes} B`,
      );
      expect(onDisk.apparentBytes).toBeLessThanOrEqual(1.05 * uniquePayloadBytes);
      expect(stats.largestCheckpointRowBytes).toBeLessThanOrEqual(4096);
      expect(stats.checkpointCount).toBe(steps + 2);
      // Every file is stored exactly once, however many checkpoints and writes reference it.
      expect(stats.blobCount).toBe(steps);
    });

    it("time-travels: an early checkpoint still holds exactly the files of its step", async () => {
      const config = { configurable: { thread_id: "append" } };
      const history = [];
      for await (const snapshot of saver.list(config, { filter: { step: 5 } }))
        history.push(snapshot);
      expect(history).toHaveLength(1);
      const files = history[0]!.checkpoint.channel_values.files as string[];
      expect(digestFiles(files)).toBe(expectedDigest(5, fileBytes));
    });
  },
);

// Issue 18: text in state. A Record<path, text> channel gains one file per step; each file's
// text is carried by the step's pending write `{ [path]: text }` and then held by the channel's
// keyed tree in every later checkpoint. Above 1 KiB it must be one item in all of those places,
// and in a copied thread too.
describe("LeanSqliteSaver on text in a Record<path, text>, one file per step", () => {
  const fileCount = 40;
  const temp = makeTempDir("text-in-state");
  const dbPath = join(temp.dir, "checkpoints.sqlite");
  let saver: LeanSqliteSaver;
  const fileText = (index: number) =>
    Array.from(
      { length: 120 },
      (_, line) => `export const value${index}_${line} = "${"x".repeat(line % 40)}";\n`,
    ).join("");
  const FilesState = Annotation.Root({
    files: Annotation<Record<string, string>>({
      reducer: (current, update) => ({ ...current, ...update }),
      default: () => ({}),
    }),
  });

  beforeAll(() => {
    // Off: the row sizes below are then the texts' own (stored once is about ids, not codecs).
    saver = LeanSqliteSaver.fromConnString(dbPath, { compression: "off" });
  });
  afterAll(async () => {
    await saver.close();
    temp.remove();
  });

  it("stores each text once, shared by its write, every checkpoint holding it and a copy", async () => {
    const graph = new StateGraph(FilesState)
      .addNode("write", (state: typeof FilesState.State) => {
        const index = Object.keys(state.files).length;
        return { files: { [`src/file-${index}.js`]: fileText(index) } };
      })
      .addEdge(START, "write")
      .addConditionalEdges("write", (state: typeof FilesState.State) =>
        Object.keys(state.files).length >= fileCount ? END : "write",
      )
      .compile({ checkpointer: saver });
    const config = { configurable: { thread_id: "text" }, recursionLimit: fileCount + 10 };
    await graph.invoke({ files: {} }, config);
    await saver.copyThread("text", "text-copy");
    const copied = await graph.getState({ configurable: { thread_id: "text-copy" } });
    expect(Object.values(copied.values.files)).toEqual(
      Array.from({ length: fileCount }, (_, index) => fileText(index)),
    );

    const database = new Database(dbPath, { readonly: true });
    try {
      const bigValues = database
        .prepare(
          "SELECT COUNT(*) AS n, SUM(byte_length) AS bytes FROM lg_items WHERE kind = 'value' AND byte_length > 1024",
        )
        .get() as { n: number; bytes: number };
      // At their own size: the text itself, not its JSON (no escaped newlines and quotes).
      const textBytes = Array.from({ length: fileCount }, (_, index) =>
        Buffer.byteLength(fileText(index)),
      ).reduce((sum, bytes) => sum + bytes, 0);
      expect(bigValues.n).toBe(fileCount);
      expect(bigValues.bytes).toBe(textBytes);
    } finally {
      database.close();
    }
  });
});
