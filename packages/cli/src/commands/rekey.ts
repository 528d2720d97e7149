import { encryptionKeysFromEnv, type RekeyReport, rekey } from "@leangraph/checkpointer";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { requireKind } from "../database/detect-kind.js";
import { usageError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { formatCount } from "../text-table.js";
import type { CommandContext, CommandOutcome } from "./command.js";

export interface RekeyCommandOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
  adoptPlaintext: boolean;
}

/**
 * Seals the database under the first key of LG_ENCRYPTION_KEYS (the saver's rekey). Each thread
 * and each batch of items is one transaction, so Ctrl-C stops between them and a rerun skips
 * what is already done.
 */
export async function runRekey(
  options: RekeyCommandOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  if (encryptionKeysFromEnv() === undefined) {
    throw usageError(
      "leangraph rekey needs LG_ENCRYPTION_KEYS: the new key first, then every key the database may still be sealed with.",
      'Example: LG_ENCRYPTION_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>" leangraph rekey db.sqlite',
    );
  }
  await requireKind("<database>", options.database, ["lean"]);
  const store = await openLeanStore(options.database, options.lean);
  try {
    context.progress.phase("rekey", undefined, "threads and item batches");
    let progress: RekeyReport | undefined;
    let interrupted = false;
    try {
      progress = await rekey(store.saver, {
        adoptPlaintext: options.adoptPlaintext,
        signal: context.signal,
        onProgress: (report) => {
          progress = report;
          context.progress.update(report.threadsResealed + report.itemsResealed);
        },
      });
    } catch (error) {
      if (!(context.signal.aborted && error === context.signal.reason)) throw error;
      interrupted = true;
    }
    context.progress.done();
    const report = {
      database: describeTarget(options.database),
      status: interrupted ? "interrupted" : "done",
      keyId: progress?.keyId ?? null,
      threads: progress?.threads ?? 0,
      threadsResealed: progress?.threadsResealed ?? 0,
      items: progress?.items ?? 0,
      itemsResealed: progress?.itemsResealed ?? 0,
      blobs: progress?.blobs ?? 0,
      blobsResealed: progress?.blobsResealed ?? 0,
    };
    const lines = [
      `rekey: ${formatCount(report.threadsResealed)} of ${formatCount(report.threads)} threads, ${formatCount(report.itemsResealed)} of ${formatCount(report.items)} database items and ${formatCount(report.blobsResealed)} of ${formatCount(report.blobs)} blobs sealed again${report.keyId === null ? "" : ` under key "${report.keyId}"`}.`,
    ];
    if (interrupted)
      lines.push("Interrupted between transactions: what is done is complete; rerun to continue.");
    return {
      exitCode: interrupted ? ExitCode.interrupted : ExitCode.ok,
      report,
      text: lines.join("\n"),
    };
  } finally {
    await store.close();
  }
}
