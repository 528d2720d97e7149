import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { requireKind } from "../database/detect-kind.js";
import { ExitCode } from "../exit-codes.js";
import { collectGarbage } from "../lean/lifecycle.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { formatBytes, formatCount } from "../text-table.js";
import type { CommandContext, CommandOutcome } from "./command.js";

export interface GcOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
  graceMs: number;
  dryRun: boolean;
}

/**
 * One mark-and-sweep (the saver's own gc). It runs in exclusive transactions and cannot stop half
 * way, so a Ctrl-C during it takes effect when it returns: the report is printed and the exit
 * code is 130.
 */
export async function runGc(options: GcOptions, context: CommandContext): Promise<CommandOutcome> {
  await requireKind("<database>", options.database, ["lean"]);
  const store = await openLeanStore(options.database, options.lean);
  try {
    const before = await store.saver.storageStats();
    context.progress.phase(options.dryRun ? "gc (dry run)" : "gc", undefined, "passes");
    const result = await collectGarbage(store.saver, {
      graceMs: options.graceMs,
      dryRun: options.dryRun,
      nowMs: context.now(),
    });
    context.progress.done();
    const after = options.dryRun ? before : await store.saver.storageStats();
    const bytesBefore = before.dbBytes + before.blobBytes;
    const bytesAfter = after.dbBytes + after.blobBytes;
    const report = {
      database: describeTarget(options.database),
      status: context.signal.aborted ? "interrupted" : "done",
      dryRun: options.dryRun,
      graceMs: options.graceMs,
      deletedItems: result.deletedItems ?? null,
      deletedBlobs: result.deletedBlobs,
      deletedBlobBytes: result.blobBytes ?? null,
      bytesBefore,
      bytesAfter,
    };
    const text = options.dryRun
      ? `gc --dry-run: would delete ${formatCount(result.deletedItems ?? 0)} items and ${formatCount(result.deletedBlobs)} blobs (${formatBytes(result.blobBytes ?? 0)}) older than the grace period; nothing deleted.`
      : `gc: deleted ${formatCount(result.deletedItems ?? 0)} items and ${formatCount(result.deletedBlobs)} blobs; ${formatBytes(bytesBefore)} -> ${formatBytes(bytesAfter)}`;
    return {
      exitCode: context.signal.aborted ? ExitCode.interrupted : ExitCode.ok,
      report,
      text,
    };
  } finally {
    await store.close();
  }
}
