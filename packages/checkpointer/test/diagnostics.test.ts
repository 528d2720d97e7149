import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CHECKPOINT_PUT_CHANNEL,
  type CheckpointPutEvent,
  checkpointPutChannel,
  RETENTION_SWEEP_CHANNEL,
  type RetentionSweepEvent,
} from "../src/index.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { buildAppendGraph } from "./fixtures/append-workload.js";
import { makeTempDir } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function collect<T>(name: string): T[] {
  const events: T[] = [];
  const listener = (message: unknown) => events.push(message as T);
  subscribe(name, listener);
  cleanups.push(() => unsubscribe(name, listener));
  return events;
}

describe("diagnostics channels", () => {
  it("publishes every committed put and putWrites, with new and deduplicated items", async () => {
    const temp = makeTempDir("diagnostics");
    cleanups.push(temp.remove);
    const saver = LeanSqliteSaver.fromConnString(join(temp.dir, "checkpoints.sqlite"));
    cleanups.push(() => saver.close());
    const puts = collect<CheckpointPutEvent>(CHECKPOINT_PUT_CHANNEL);
    const graph = buildAppendGraph(saver, 4096);
    await graph.invoke({ target: 4 }, { configurable: { thread_id: "first" } });
    const checkpoints = (await saver.storageStats()).checkpointCount;
    expect(puts.filter((event) => event.operation === "put")).toHaveLength(checkpoints);
    expect(puts.some((event) => event.operation === "putWrites")).toBe(true);
    const firstWritten = puts.reduce((total, event) => total + event.itemsWritten, 0);
    expect(firstWritten).toBeGreaterThan(0);
    for (const event of puts) {
      expect(event.rowBytes).toBeGreaterThan(0);
      expect(event.durationMs).toBeGreaterThan(0);
      expect(event.itemBytesWritten === 0).toBe(event.itemsWritten === 0);
    }

    // The same files on a second thread: content-addressed, so its items are already stored.
    puts.length = 0;
    await graph.invoke({ target: 4 }, { configurable: { thread_id: "second" } });
    const deduplicated = puts.reduce((total, event) => total + event.itemsDeduplicated, 0);
    const written = puts.reduce((total, event) => total + event.itemsWritten, 0);
    expect(deduplicated).toBeGreaterThan(0);
    expect(written).toBeLessThan(firstWritten);
  });

  it("publishes each retention sweep with what it removed", async () => {
    const temp = makeTempDir("diagnostics-retention");
    cleanups.push(temp.remove);
    const saver = LeanSqliteSaver.fromConnString(join(temp.dir, "checkpoints.sqlite"), {
      retention: { keepLast: 1, sweepIntervalMs: 3_600_000 },
      orphanGraceMs: 0,
    });
    cleanups.push(() => saver.close());
    const sweeps = collect<RetentionSweepEvent>(RETENTION_SWEEP_CHANNEL);
    await buildAppendGraph(saver, 4096).invoke({ target: 3 }, { configurable: { thread_id: "t" } });
    const before = (await saver.storageStats()).checkpointCount;
    const report = await saver.sweepRetention();
    expect(sweeps).toEqual([
      {
        threads: 1,
        deletedCheckpoints: before - 1,
        deletedItems: report.gc.deletedItems,
        deletedBlobs: report.gc.deletedBlobs,
      },
    ]);
    expect(report.deletedCheckpoints).toBe(before - 1);
  });

  it("builds no event while nothing listens", () => {
    expect(checkpointPutChannel.hasSubscribers).toBe(false);
  });
});
