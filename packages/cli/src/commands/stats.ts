import { storedCheckpoints } from "@leangraph/checkpointer/inspect";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { type DatabaseKind, requireKind } from "../database/detect-kind.js";
import { ExitCode } from "../exit-codes.js";
import { safePoint } from "../interrupt.js";
import { threadIdsOf } from "../lean/lifecycle.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { openStockSource } from "../stock/open-stock-source.js";
import { formatBytes, formatCount } from "../text-table.js";
import type { CommandContext, CommandOutcome } from "./command.js";

export interface StatsOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
  kind?: DatabaseKind;
}

export interface StatsReport {
  database: string;
  kind: DatabaseKind;
  backend: "sqlite" | "postgres";
  /** SQLite: db + WAL (+ shm for lean); Postgres: relation sizes. */
  databaseBytes: number;
  blobBytes: number;
  blobCount: number;
  threads: number;
  checkpoints: number;
  writes: number;
  /** Lean only: the largest checkpoint row (ids, skeleton, metadata, refs). */
  largestCheckpointRowBytes?: number;
}

export async function runStats(
  options: StatsOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  const kind = await requireKind(
    "<database>",
    options.database,
    ["stock", "lean"],
    options.kind ?? "lean",
  );
  const report = kind === "stock" ? await stockStats(options) : await leanStats(options, context);
  const text = [
    `${report.kind} ${report.backend === "sqlite" ? "SQLite" : "Postgres"} checkpoint database ${report.database}`,
    `bytes on disk   ${formatBytes(report.databaseBytes + report.blobBytes)}${report.kind === "lean" ? ` (database ${formatBytes(report.databaseBytes)}, ${formatCount(report.blobCount)} blobs ${formatBytes(report.blobBytes)})` : ""}`,
    `threads         ${formatCount(report.threads)}`,
    `checkpoints     ${formatCount(report.checkpoints)}`,
    `pending writes  ${formatCount(report.writes)}`,
    ...(report.largestCheckpointRowBytes === undefined
      ? []
      : [`largest row     ${formatBytes(report.largestCheckpointRowBytes)}`]),
  ].join("\n");
  return { exitCode: ExitCode.ok, report: report as unknown as Record<string, unknown>, text };
}

async function stockStats(options: StatsOptions): Promise<StatsReport> {
  const source = await openStockSource(options.database);
  try {
    const totals = await source.totals();
    return {
      database: describeTarget(options.database),
      kind: "stock",
      backend: source.backend,
      databaseBytes: totals.databaseBytes,
      blobBytes: 0,
      blobCount: 0,
      threads: totals.threads,
      checkpoints: totals.checkpoints,
      writes: totals.writes,
    };
  } finally {
    await source.close();
  }
}

async function leanStats(options: StatsOptions, context: CommandContext): Promise<StatsReport> {
  const store = await openLeanStore(options.database, options.lean);
  try {
    const stats = await store.saver.storageStats();
    const threadIds = await threadIdsOf(store.saver);
    let writes = 0;
    context.progress.phase("count writes", threadIds.length, "threads");
    for (const [index, threadId] of threadIds.entries()) {
      await safePoint(context.signal);
      for (const stored of await storedCheckpoints(store.saver, threadId))
        writes += stored.writeCount;
      context.progress.update(index + 1);
    }
    context.progress.done();
    return {
      database: describeTarget(options.database),
      kind: "lean",
      backend: options.database.backend,
      databaseBytes: stats.dbBytes,
      blobBytes: stats.blobBytes,
      blobCount: stats.blobCount,
      threads: threadIds.length,
      checkpoints: stats.checkpointCount,
      writes,
      largestCheckpointRowBytes: stats.largestCheckpointRowBytes,
    };
  } finally {
    await store.close();
  }
}
