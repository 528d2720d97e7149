import { type CompactReport, compact } from "@leangraph/checkpointer";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { requireKind } from "../database/detect-kind.js";
import { ExitCode } from "../exit-codes.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { formatBytes, formatCount } from "../text-table.js";
import type { CommandContext, CommandOutcome } from "./command.js";

export interface CompactOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
}

/**
 * Rewrites bodies stored plain (written before compression, or with LG_COMPRESSION=off) in the
 * stored form LG_COMPRESSION asks for, through the checkpointer's `compact` (value items in the
 * database, then blobs). Killed or interrupted, rerun it: what is already compressed is skipped.
 */
export async function runCompact(
  options: CompactOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  await requireKind("<database>", options.database, ["lean"]);
  const store = await openLeanStore(options.database, options.lean);
  let result: CompactReport;
  try {
    let phase: CompactReport["phase"] | undefined;
    result = await compact(store.saver, {
      signal: context.signal,
      onProgress(progress) {
        if (progress.phase !== phase) {
          phase = progress.phase;
          context.progress.phase(`compact ${phase}`, undefined, phase);
        }
        const bodies = phase === "items" ? progress.items : progress.blobs;
        context.progress.update(bodies.seen, `${formatCount(bodies.rewritten)} rewritten`);
      },
    });
    context.progress.done();
  } finally {
    await store.close();
  }
  const { items, blobs } = result;
  const report = {
    database: describeTarget(options.database),
    status: result.interrupted ? ("interrupted" as const) : ("done" as const),
    compression: result.compression,
    items: {
      rewritten: items.rewritten,
      bytesBefore: items.bytesBefore,
      bytesAfter: items.bytesAfter,
    },
    blobs: {
      rewritten: blobs.rewritten,
      bytesBefore: blobs.bytesBefore,
      bytesAfter: blobs.bytesAfter,
    },
  };
  const saved = items.bytesBefore + blobs.bytesBefore - items.bytesAfter - blobs.bytesAfter;
  const text =
    report.compression === "off"
      ? "compact: LG_COMPRESSION=off, nothing to do."
      : `compact (${report.compression}): rewrote ${formatCount(items.rewritten)} items and ${formatCount(blobs.rewritten)} blobs, ${formatBytes(saved)} smaller${result.interrupted ? "; interrupted, rerun to continue" : ""}.`;
  return {
    exitCode: result.interrupted ? ExitCode.interrupted : ExitCode.ok,
    report,
    text,
  };
}
