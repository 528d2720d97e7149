import { storedCheckpoints } from "@leangraph/checkpointer/inspect";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { requireKind } from "../database/detect-kind.js";
import { invalidArgumentError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { pruneThreads, threadIdsOf } from "../lean/lifecycle.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { formatBytes, formatCount } from "../text-table.js";
import type { CommandContext, CommandOutcome } from "./command.js";

export interface PruneOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
  keepLast: number | undefined;
  maxAgeMs: number | undefined;
  threadIds: string[] | undefined;
  dryRun: boolean;
}

export async function runPrune(
  options: PruneOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  await requireKind("<database>", options.database, ["lean"]);
  const store = await openLeanStore(options.database, options.lean);
  try {
    const { saver } = store;
    // --older-than alone keeps each namespace's newest checkpoint: an idle thread keeps its state.
    const keepLast = options.keepLast ?? 1;
    let threadIds = options.threadIds;
    if (threadIds === undefined) threadIds = await threadIdsOf(saver);
    else {
      // A mistyped id is refused before anything is deleted, not skipped after the rest went.
      for (const threadId of threadIds) {
        if ((await storedCheckpoints(saver, threadId)).length === 0) {
          throw invalidArgumentError(
            "--thread",
            threadId,
            "the id of a thread stored in this database",
          );
        }
      }
    }
    const before = await saver.storageStats();
    context.progress.phase(
      options.dryRun ? "prune (dry run)" : "prune",
      threadIds.length,
      "threads",
    );
    let interrupted = false;
    let result = { threads: 0, deletedCheckpoints: 0, dryRun: options.dryRun };
    try {
      result = await pruneThreads(
        saver,
        {
          threadIds,
          keepLast,
          maxAgeMs: options.maxAgeMs,
          dryRun: options.dryRun,
        },
        { signal: context.signal, onThread: (done) => context.progress.update(done) },
      );
    } catch (error) {
      if (!(context.signal.aborted && error === context.signal.reason)) throw error;
      interrupted = true;
    }
    context.progress.done();
    const after = options.dryRun ? before : await saver.storageStats();
    const report = {
      database: describeTarget(options.database),
      status: interrupted ? "interrupted" : "done",
      dryRun: options.dryRun,
      keepLast,
      maxAgeMs: options.maxAgeMs ?? null,
      threads: result.threads,
      deletedCheckpoints: result.deletedCheckpoints,
      checkpointsBefore: before.checkpointCount,
      checkpointsAfter: after.checkpointCount,
      bytesBefore: before.dbBytes + before.blobBytes,
      bytesAfter: after.dbBytes + after.blobBytes,
    };
    const lines = [
      options.dryRun
        ? `prune --dry-run: would delete ${formatCount(result.deletedCheckpoints)} of ${formatCount(before.checkpointCount)} checkpoints in ${formatCount(result.threads)} threads; nothing deleted.`
        : `prune: deleted ${formatCount(result.deletedCheckpoints)} checkpoints in ${formatCount(result.threads)} threads; ${formatCount(before.checkpointCount)} -> ${formatCount(after.checkpointCount)} checkpoints, ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)}`,
    ];
    if (interrupted)
      lines.push("Interrupted between batches: the batches done are complete; rerun to continue.");
    return {
      exitCode: interrupted ? ExitCode.interrupted : ExitCode.ok,
      report,
      text: lines.join("\n"),
    };
  } finally {
    await store.close();
  }
}
