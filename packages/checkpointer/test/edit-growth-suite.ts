import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { expect, it } from "vitest";
import {
  changedBytes,
  digestFileMap,
  type EditWorkloadOptions,
  filesAfter,
  runEditWorkload,
} from "./fixtures/edit-workload.js";

/** Issue 13's workload at its full size: 20 files of ~290 KB, 200 edits of 1% of one file. */
export const editLoop: EditWorkloadOptions = { files: 20, fileBytes: 290_000, steps: 200 };

/**
 * Runs the edit loop on `open()`'s saver and asserts storage <= 2x the changed bytes, and that a
 * sample of checkpoints across the history reads back exactly the files of its step.
 */
export function testEditLoop(
  name: string,
  open: () => Promise<{
    saver: BaseCheckpointSaver;
    bytesOnDisk(): Promise<number>;
    close(): Promise<void>;
  }>,
): void {
  it(`${name}: the edit loop stores <= 2x the changed bytes and reads back every sampled checkpoint`, {
    timeout: 600_000,
  }, async () => {
    const { saver, bytesOnDisk, close } = await open();
    try {
      const { graph, config } = await runEditWorkload(saver, { ...editLoop, threadId: "edit" });
      const changed = changedBytes(editLoop);
      const onDisk = await bytesOnDisk();
      console.info(
        `[edit-loop] ${name}: changed ${changed} B, on disk ${onDisk} B (${(onDisk / changed).toFixed(2)}x)`,
      );
      expect(onDisk).toBeLessThanOrEqual(2 * changed);
      let index = 0;
      for await (const snapshot of graph.getStateHistory(config)) {
        index += 1;
        if (index % 37 !== 1) continue;
        // Before the seed node ran, the thread holds no files yet.
        const done = (snapshot.values.done as number | undefined) ?? 0;
        const files = (snapshot.values.files as Record<string, string> | undefined) ?? {};
        const expected = Object.keys(files).length === 0 ? {} : filesAfter(editLoop, done);
        expect(digestFileMap(files)).toBe(digestFileMap(expected));
      }
      expect(index).toBeGreaterThan(editLoop.steps);
    } finally {
      await close();
    }
  });
}
