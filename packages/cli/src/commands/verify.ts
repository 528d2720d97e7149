import { CheckpointerErrorCode } from "@leangraph/checkpointer";
import {
  checkReferences,
  retainedHistoryPlaces,
  storedCheckpoints,
} from "@leangraph/checkpointer/inspect";
import { LeangraphError, SerdeErrorCode } from "@leangraph/serde";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { requireKind } from "../database/detect-kind.js";
import { ExitCode } from "../exit-codes.js";
import { safePoint } from "../interrupt.js";
import { threadIdsOf } from "../lean/lifecycle.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { formatCount } from "../text-table.js";
import type { CommandContext, CommandOutcome } from "./command.js";

export interface VerifyOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
}

/** One damaged thing, as the saver or the blob store named it. */
export interface Damage {
  /**
   * `checkpoint`: the checkpoint (or one of its channels or writes) cannot be read back;
   * `reference`: an item or blob a row reaches is missing or does not match its id (named once,
   * with the first row that reaches it); `blob`: a stored blob fails its hash.
   */
  kind: "checkpoint" | "reference" | "blob";
  threadId?: string;
  checkpointNs?: string;
  checkpointId?: string;
  /** reference: the item or blob id and what it is (tree node, item, serializer blob). */
  id?: string;
  pieceKind?: string;
  /** reference: `channel "files"` or `write <task>/<idx> to channel "files"`. */
  reference?: string;
  blobId?: string;
  code: string;
  /** The coded error's message: it names the item or blob, and the channel or write. */
  message: string;
}

export interface VerifyReport {
  database: string;
  ok: boolean;
  threads: number;
  checkpoints: number;
  /** Retained DeltaChannel histories (a prune's) read back through the checkpoints that use them. */
  retainedHistories: number;
  blobs: number;
  damagedCheckpoints: number;
  /** Distinct items and blobs that rows reach but that are missing or altered. */
  damagedReferences: number;
  damagedBlobs: number;
  /** The first 1,000; all are counted. */
  damage: Damage[];
}

const maxListedDamage = 1000;

/**
 * Every checkpoint is read back through the saver (`getTuple` by id decodes every channel and
 * every pending write, checking every item's hash and resolving every reference), and every blob
 * is streamed through the blob store, which checks its hash. Failures are collected, not fatal:
 * the report names each one. Only coded (LeangraphError) failures count as damage; anything else
 * (a lost connection) stops the run, because "could not read" is not "damaged".
 */
export async function runVerify(
  options: VerifyOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  await requireKind("<database>", options.database, ["lean"]);
  const store = await openLeanStore(options.database, options.lean);
  const report: VerifyReport = {
    database: describeTarget(options.database),
    ok: true,
    threads: 0,
    checkpoints: 0,
    retainedHistories: 0,
    blobs: 0,
    damagedCheckpoints: 0,
    damagedReferences: 0,
    damagedBlobs: 0,
    damage: [],
  };
  const record = (damage: Damage) => {
    if (damage.kind === "checkpoint") report.damagedCheckpoints += 1;
    else if (damage.kind === "reference") report.damagedReferences += 1;
    else report.damagedBlobs += 1;
    if (report.damage.length < maxListedDamage) report.damage.push(damage);
  };
  try {
    const { saver } = store;
    const stats = await saver.storageStats();
    const threadIds = await threadIdsOf(saver);
    report.threads = threadIds.length;
    context.progress.phase("verify checkpoints", stats.checkpointCount, "checkpoints");
    for (const threadId of threadIds) {
      const stored = await storedCheckpoints(saver, threadId);
      for (const checkpoint of stored) {
        await safePoint(context.signal);
        const config = {
          configurable: {
            thread_id: threadId,
            checkpoint_ns: checkpoint.checkpointNs,
            checkpoint_id: checkpoint.checkpointId,
          },
        };
        try {
          await saver.getTuple(config);
        } catch (error) {
          if (!(error instanceof LeangraphError)) throw error;
          record({ kind: "checkpoint", ...where(threadId, checkpoint), ...coded(error) });
        }
        report.checkpoints += 1;
        context.progress.update(report.checkpoints);
      }
      // A pruned DeltaChannel rebuilds from the history the prune retained: read it the way
      // LangGraph does, from each kept checkpoint whose parent the prune deleted.
      for (const place of await retainedHistoryPlaces(saver, threadId)) {
        for (const child of stored.filter(
          (checkpoint) =>
            checkpoint.checkpointNs === place.checkpointNs &&
            checkpoint.parentCheckpointId === place.parentCheckpointId,
        )) {
          await safePoint(context.signal);
          try {
            await saver.getDeltaChannelHistory({
              config: {
                configurable: {
                  thread_id: threadId,
                  checkpoint_ns: child.checkpointNs,
                  checkpoint_id: child.checkpointId,
                },
              },
              channels: place.channels,
            });
          } catch (error) {
            if (!(error instanceof LeangraphError)) throw error;
            record({ kind: "checkpoint", ...where(threadId, child), ...coded(error) });
          }
          report.retainedHistories += 1;
        }
      }
    }
    context.progress.phase("verify references", threadIds.length, "threads");
    const references = await checkReferences(saver, {
      threadIds,
      signal: context.signal,
      onThread: (done) => context.progress.update(done),
    });
    for (const damaged of references.damaged) {
      record({
        kind: "reference",
        id: damaged.id,
        pieceKind: damaged.kind,
        threadId: damaged.threadId,
        checkpointNs: damaged.checkpointNs,
        checkpointId: damaged.checkpointId,
        reference: damaged.reference,
        code: referenceCode(damaged.problem, damaged.inBlobStore),
        message: `${damaged.kind} ${damaged.id} is ${damaged.problem === "missing" ? "missing" : "altered: its bytes do not match its id"} (first reached from ${damaged.reference} of checkpoint ${damaged.checkpointId}, thread ${damaged.threadId})`,
      });
    }
    context.progress.phase("verify blobs", stats.blobCount, "blobs");
    for await (const blobId of saver.blobStore.list()) {
      await safePoint(context.signal);
      try {
        // Streamed: a blob's hash is checked at its end, with one chunk in memory.
        for await (const _chunk of saver.blobStore.getStream(blobId)) {
          // Reading is the check.
        }
      } catch (error) {
        if (!(error instanceof LeangraphError)) throw error;
        record({ kind: "blob", blobId, code: error.code, message: error.message });
      }
      report.blobs += 1;
      context.progress.update(report.blobs);
    }
    context.progress.done();
  } catch (error) {
    context.progress.done();
    await store.close();
    if (context.signal.aborted && error === context.signal.reason) {
      report.ok = false;
      return {
        exitCode: ExitCode.interrupted,
        report: { ...report, status: "interrupted" },
        text: renderVerify(report, true),
      };
    }
    throw error;
  }
  await store.close();
  report.ok = report.damagedCheckpoints + report.damagedReferences + report.damagedBlobs === 0;
  return {
    exitCode: report.ok ? ExitCode.ok : ExitCode.failed,
    report: { ...report, status: report.ok ? "ok" : "damaged" },
    text: renderVerify(report, false),
  };
}

function where(
  threadId: string,
  checkpoint: { checkpointNs: string; checkpointId: string },
): Pick<Damage, "threadId" | "checkpointNs" | "checkpointId"> {
  return { threadId, checkpointNs: checkpoint.checkpointNs, checkpointId: checkpoint.checkpointId };
}

function coded(error: LeangraphError): Pick<Damage, "code" | "message"> {
  return { code: error.code, message: error.message };
}

/** The code a read of this piece raises, so a report and a failing getTuple speak alike. */
function referenceCode(problem: "missing" | "corrupt", inBlobStore: boolean): string {
  if (inBlobStore)
    return problem === "missing" ? SerdeErrorCode.blobMissing : SerdeErrorCode.blobCorrupt;
  return problem === "missing"
    ? CheckpointerErrorCode.itemMissing
    : CheckpointerErrorCode.itemCorrupt;
}

function renderVerify(report: VerifyReport, interrupted: boolean): string {
  const lines = [
    `${report.database}: ${formatCount(report.checkpoints)} checkpoints of ${formatCount(report.threads)} threads and ${formatCount(report.blobs)} blobs read back`,
  ];
  for (const damage of report.damage) {
    lines.push(
      damage.kind === "blob"
        ? `DAMAGED blob ${damage.blobId}: ${damage.code}: ${damage.message}`
        : damage.kind === "reference"
          ? `DAMAGED ${damage.pieceKind} ${damage.id}: ${damage.code}: ${damage.message}`
          : `DAMAGED checkpoint ${damage.checkpointId} (thread ${damage.threadId}${damage.checkpointNs ? `, ns ${damage.checkpointNs}` : ""}): ${damage.code}: ${damage.message}`,
    );
  }
  const listed = report.damage.length;
  const total = report.damagedCheckpoints + report.damagedReferences + report.damagedBlobs;
  if (total > listed) lines.push(`… and ${formatCount(total - listed)} more`);
  if (interrupted)
    lines.push("Interrupted before the end: what was read so far is reported above.");
  else if (total === 0) lines.push("OK: every reference resolves and every hash matches.");
  else
    lines.push(
      `${formatCount(report.damagedCheckpoints)} checkpoints cannot be read back; ${formatCount(report.damagedReferences)} items or blobs they reach are missing or altered; ${formatCount(report.damagedBlobs)} blobs fail their hash.`,
    );
  return lines.join("\n");
}
