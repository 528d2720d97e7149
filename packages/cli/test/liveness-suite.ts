import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import type { BlobStore } from "@leangraph/serde";
import { expect, it } from "vitest";
import {
  expectedMessages,
  messagesOf,
  runBigDeltaChat,
} from "../../checkpointer/test/fixtures/big-delta-chat.js";
import { ExitCode } from "../src/exit-codes.js";
import { leangraph } from "./fixtures/run-in-process.js";

/** A lean store the CLI can open (its command-line arguments) and a saver over the same store. */
export interface LivenessTarget {
  /** `<database>` and the lean store options, as a user passes them. */
  args: string[];
  openSaver(): LeanCheckpointSaver;
  /** The store's blobs, seen directly (to plant orphans). */
  blobStore(): BlobStore;
  close(): Promise<void>;
}

const turns = 12;

/**
 * Issue 17's reproduction: a DeltaChannel chat with 300 KB messages, pruned to its last
 * checkpoint, keeps its whole history alive through the retained history the prune stored.
 * Every command that decides liveness must agree: inspect's orphans, `gc --dry-run`'s deletions
 * and gc's deletions are 0 for live data and exactly the planted orphans when there are some;
 * every message reads back; verify reads the retained history.
 */
export function testLivenessAgreement(target: () => Promise<LivenessTarget>): void {
  it("inspect, gc --dry-run and gc agree that retained history, copies and writes are live", async () => {
    const store = await target();
    try {
      const writer = store.openSaver();
      await runBigDeltaChat(writer, "d", turns);
      const pruned = await writer.prune(["d"], { keepLast: 1 });
      expect(pruned.deletedCheckpoints).toBeGreaterThan(0);
      expect(pruned.checkpointsWithRetainedHistory).toBeGreaterThan(0);
      await writer.close();

      const agree = async (expectedOrphans: readonly string[]) => {
        const inspect = await leangraph("inspect", ...store.args, "--json");
        expect(inspect.code, inspect.stderr).toBe(ExitCode.ok);
        expect(inspect.json.missingPieces).toBe(0);
        expect(inspect.json.orphanBlobs.map((blob: { id: string }) => blob.id).sort()).toEqual(
          [...expectedOrphans].sort(),
        );
        const dryRun = await leangraph("gc", ...store.args, "--grace", "0s", "--dry-run", "--json");
        expect(dryRun.code, dryRun.stderr).toBe(ExitCode.ok);
        expect(dryRun.json.deletedBlobs).toBe(expectedOrphans.length);
        const gc = await leangraph("gc", ...store.args, "--grace", "0s", "--json");
        expect(gc.code, gc.stderr).toBe(ExitCode.ok);
        expect(gc.json.deletedBlobs).toBe(expectedOrphans.length);
        const verify = await leangraph("verify", ...store.args, "--json");
        expect(verify.code, verify.stdout).toBe(ExitCode.ok);
        expect(verify.json).toMatchObject({ ok: true, damagedReferences: 0 });
        expect(verify.json.retainedHistories).toBeGreaterThan(0);
      };

      await agree([]);
      const reader = store.openSaver();
      expect(await messagesOf(reader, "d")).toEqual(expectedMessages(turns));
      await reader.close();

      const planted = [
        await store.blobStore().put(Buffer.from("an orphan nothing refers to")),
        await store.blobStore().put(Buffer.from("another orphan")),
      ];
      await agree(planted);

      // A copy keeps the history alive once the original is gone; a pending write of the copy too.
      const copier = store.openSaver();
      await copier.copyThread("d", "copy");
      await copier.deleteThread("d");
      const latest = (await copier.getTuple({ configurable: { thread_id: "copy" } }))!;
      await copier.putWrites(latest.config, [["notes", "x".repeat(200 * 1024)]], "task-1");
      await copier.close();
      await agree([]);
      const copyReader = store.openSaver();
      expect(await messagesOf(copyReader, "copy")).toEqual(expectedMessages(turns));
      const pending = (await copyReader.getTuple({ configurable: { thread_id: "copy" } }))!;
      expect(pending.pendingWrites?.[0]?.[2]).toBe("x".repeat(200 * 1024));
      await copyReader.close();
    } finally {
      await store.close();
    }
  });
}
