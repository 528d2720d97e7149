import type {
  ChannelVersions,
  CheckpointMetadata,
  CheckpointTuple,
  PendingWrite,
} from "@langchain/langgraph-checkpoint";
import { WRITES_IDX_MAP } from "@langchain/langgraph-checkpoint";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { diskUsage, storedCheckpoints } from "@leangraph/checkpointer/inspect";
import { LeangraphError, LruMap } from "@leangraph/serde";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { detectContents, requireKind } from "../database/detect-kind.js";
import { CliErrorCode } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { safePoint } from "../interrupt.js";
import { type LeanStore, openLeanStore } from "../lean/open-lean-store.js";
import { openStockSource } from "../stock/open-stock-source.js";
import { type CheckpointKey, configOf, type StockSource } from "../stock/stock-source.js";
import { formatBytes, formatCount } from "../text-table.js";
import { tupleDifference } from "../values/tuple-difference.js";
import { type CommandContext, type CommandOutcome, peakRssBytes } from "./command.js";

export interface ImportOptions {
  from: DatabaseTarget;
  to: DatabaseTarget;
  lean: LeanStoreOptions;
}

export interface ImportMismatch {
  threadId: string;
  checkpointNs: string;
  checkpointId: string | undefined;
  difference: string;
}

export interface ImportReport {
  status: "done" | "interrupted" | "mismatch";
  from: string;
  to: string;
  threads: number;
  checkpoints: number;
  /** Checkpoints put by this run. */
  imported: number;
  /** Checkpoints a previous (killed or interrupted) run had already stored, with all their writes. */
  alreadyPresent: number;
  writes: number;
  verifiedThreads: number;
  verifiedCheckpoints: number;
  mismatches: ImportMismatch[];
  sourceBytes: number;
  destinationBytes: number;
  importMs: number;
  verifyMs: number;
  /** MB (10^6 B) of source database per second of import (verification excluded). */
  sourceMbPerSecond: number;
  peakRssBytes: number;
}

/** Mismatches listed in a report; more are counted, not kept (memory stays bounded). */
const maxListedMismatches = 50;
/**
 * Channel versions of recently imported checkpoints, to compute a child's `newVersions`. A miss
 * (a parent imported by an earlier run, or long ago in a huge thread) only makes the put encode
 * every channel; content addressing stores nothing twice either way.
 */
const rememberedVersions = 1024;
/** The serializer's large-string cache during an import (see openLeanStore). */
const importStringCacheBytes = 64 * 1024 * 1024;

export async function runImport(
  options: ImportOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  await requireKind("--from", options.from, ["stock"]);
  await requireImportDestination(options);
  const source = await openStockSource(options.from);
  let report: ImportReport;
  let blobDir: string | undefined;
  try {
    const store = await openLeanStore(options.to, options.lean, {
      stringCacheBytes: importStringCacheBytes,
    });
    blobDir = store.blobDir;
    try {
      report = await importAndVerify(source, store, options, context);
    } finally {
      await store.close();
    }
  } finally {
    await source.close();
  }
  report.destinationBytes = await destinationBytes(options.to, blobDir, report.destinationBytes);
  report.peakRssBytes = peakRssBytes();
  return {
    exitCode:
      report.status === "done"
        ? ExitCode.ok
        : report.status === "interrupted"
          ? ExitCode.interrupted
          : ExitCode.failed,
    report: report as unknown as Record<string, unknown>,
    text: renderImport(report),
  };
}

async function requireImportDestination(options: ImportOptions): Promise<void> {
  const contents = await detectContents(options.to);
  const sharesSourceSchema =
    options.from.backend === "postgres" &&
    options.to.backend === "postgres" &&
    options.from.url === options.to.url &&
    options.from.schema === options.to.schema;
  // Stock and lean tables have different names, so one Postgres schema may hold both (importing
  // in place); anywhere else a stock destination is a mistaken argument.
  if (contents.stock && !sharesSourceSchema) {
    throw new LeangraphError(
      CliErrorCode.wrongDatabaseKind,
      `--to ${describeTarget(options.to)} holds a stock checkpoint database: expected a lean one or a new one.`,
      { hint: "Give a new file or schema for the lean store." },
    );
  }
}

/** SQLite: real file sizes after close (the WAL folded back); Postgres: what storageStats saw. */
async function destinationBytes(
  target: DatabaseTarget,
  blobDir: string | undefined,
  measuredOpen: number,
): Promise<number> {
  if (target.backend !== "sqlite") return measuredOpen;
  const paths = [target.path, `${target.path}-wal`, `${target.path}-shm`];
  return (await diskUsage(blobDir === undefined ? paths : [...paths, blobDir])).apparentBytes;
}

async function importAndVerify(
  source: StockSource,
  store: LeanStore,
  options: ImportOptions,
  context: CommandContext,
): Promise<ImportReport> {
  const totals = await source.totals();
  const report: ImportReport = {
    status: "done",
    from: describeTarget(options.from),
    to: describeTarget(options.to),
    threads: totals.threads,
    checkpoints: totals.checkpoints,
    imported: 0,
    alreadyPresent: 0,
    writes: 0,
    verifiedThreads: 0,
    verifiedCheckpoints: 0,
    mismatches: [],
    sourceBytes: totals.databaseBytes,
    destinationBytes: 0,
    importMs: 0,
    verifyMs: 0,
    sourceMbPerSecond: 0,
    peakRssBytes: 0,
  };
  const importStartMs = context.now();
  const rate = () => {
    const seconds = (context.now() - importStartMs) / 1000;
    const done = report.imported + report.alreadyPresent;
    const sourceMb =
      totals.checkpoints === 0 ? 0 : (totals.databaseBytes / 1e6) * (done / totals.checkpoints);
    return seconds > 0 ? `${(sourceMb / seconds).toFixed(1)} MB/s of source` : "";
  };
  context.progress.phase("import", totals.checkpoints, "checkpoints");
  try {
    let thread: ThreadImport | undefined;
    for await (const key of source.keys()) {
      await safePoint(context.signal);
      if (thread?.threadId !== key.threadId) {
        // Let the previous thread's saver (and the arrays it remembers) go before the next starts.
        thread = undefined;
        thread = await ThreadImport.start(store, key.threadId);
      }
      const outcome = await thread.importCheckpoint(source, key);
      if (outcome === "present") report.alreadyPresent += 1;
      else {
        report.imported += 1;
        report.writes += outcome.writes;
      }
      context.progress.update(report.imported + report.alreadyPresent, rate());
    }
    context.progress.done();
    report.importMs = context.now() - importStartMs;
    report.sourceMbPerSecond =
      report.importMs > 0 ? totals.databaseBytes / 1e6 / (report.importMs / 1000) : 0;

    const verifyStartMs = context.now();
    context.progress.phase("verify", totals.checkpoints, "checkpoints");
    await verifyAll(source, store.saver, report, context);
    context.progress.done();
    report.verifyMs = context.now() - verifyStartMs;
  } catch (error) {
    context.progress.done();
    if (context.signal.aborted && error === context.signal.reason) {
      report.status = "interrupted";
      if (report.importMs === 0) report.importMs = context.now() - importStartMs;
    } else {
      throw error;
    }
  }
  if (report.status === "done" && report.mismatches.length > 0) report.status = "mismatch";
  const stats = await store.saver.storageStats();
  report.destinationBytes = stats.dbBytes + stats.blobBytes;
  return report;
}

/** One thread's import: what the destination already holds, and a saver with fresh caches. */
class ThreadImport {
  readonly #versions = new LruMap<string, ChannelVersions>({ maxWeight: rememberedVersions });

  private constructor(
    readonly threadId: string,
    private readonly saver: LeanCheckpointSaver,
    /** `namespace\0id` → stored write rows, for checkpoints already in the destination. */
    private readonly present: Map<string, number>,
  ) {}

  /**
   * Reads what a previous run stored of this thread (rows only, nothing decoded): resuming after a
   * kill skips every checkpoint stored with all its writes. A checkpoint stored without all its
   * writes (killed between the two) is put again; both calls are idempotent.
   */
  static async start(store: LeanStore, threadId: string): Promise<ThreadImport> {
    const saver = store.freshSaver();
    const present = new Map<string, number>();
    for (const stored of await storedCheckpoints(saver, threadId)) {
      present.set(`${stored.checkpointNs}\0${stored.checkpointId}`, stored.writeCount);
    }
    return new ThreadImport(threadId, saver, present);
  }

  async importCheckpoint(
    source: StockSource,
    key: CheckpointKey,
  ): Promise<"present" | { writes: number }> {
    const storedWrites = this.present.get(`${key.checkpointNs}\0${key.checkpointId}`);
    if (storedWrites !== undefined && storedWrites >= key.writeCount) return "present";
    const tuple = await source.getTuple(key);
    if (tuple === undefined) {
      throw new LeangraphError(
        CliErrorCode.importMismatch,
        `Checkpoint ${key.checkpointId} of thread ${key.threadId} vanished from the source while importing.`,
        { hint: "Stop every process writing to the source database, then rerun the import." },
      );
    }
    await this.saver.put(
      {
        configurable: {
          thread_id: key.threadId,
          checkpoint_ns: key.checkpointNs,
          ...(key.parentCheckpointId === undefined
            ? {}
            : { checkpoint_id: key.parentCheckpointId }),
        },
      },
      tuple.checkpoint,
      tuple.metadata as CheckpointMetadata,
      this.#newVersions(key, tuple),
    );
    this.#remember(key.checkpointId, tuple.checkpoint.channel_versions);
    return { writes: await this.#putWrites(key, tuple) };
  }

  /**
   * What LangGraph itself would pass: without a parent every channel is new; with one, the
   * channels whose version differs from the parent's. Unknown parent versions: every channel.
   */
  #newVersions(key: CheckpointKey, tuple: CheckpointTuple): ChannelVersions {
    const versions = tuple.checkpoint.channel_versions;
    const parent =
      key.parentCheckpointId === undefined
        ? undefined
        : this.#versions.peek(key.parentCheckpointId);
    if (parent === undefined) {
      // A reducer channel holds its default ([]) before its first write, with no version yet; the
      // stock SqliteSaver stores that value and reads it back, so it must be stored here too.
      // (The put takes versions from the checkpoint; newVersions only says what to store.)
      const all: ChannelVersions = { ...versions };
      for (const channel of Object.keys(tuple.checkpoint.channel_values ?? {})) all[channel] ??= 0;
      return all;
    }
    const changed: ChannelVersions = {};
    for (const [channel, version] of Object.entries(versions)) {
      if (parent[channel] !== version) changed[channel] = version;
    }
    return changed;
  }

  #remember(checkpointId: string, versions: ChannelVersions): void {
    this.#versions.set(checkpointId, versions);
  }

  /**
   * Writes go back per task, as LangGraph puts them: a task's regular writes in one call (their
   * index in the call is their idx), each special write (ERROR, INTERRUPT, …, fixed negative idx)
   * alone.
   */
  async #putWrites(key: CheckpointKey, tuple: CheckpointTuple): Promise<number> {
    const config = configOf(key);
    const byTask = new Map<string, PendingWrite[]>();
    let count = 0;
    for (const [taskId, channel, value] of tuple.pendingWrites ?? []) {
      if (channel in WRITES_IDX_MAP) {
        await this.saver.putWrites(config, [[channel, value]], taskId);
      } else {
        const writes = byTask.get(taskId) ?? [];
        byTask.set(taskId, writes);
        writes.push([channel, value]);
      }
      count += 1;
    }
    for (const [taskId, writes] of byTask) await this.saver.putWrites(config, writes, taskId);
    return count;
  }
}

/**
 * Reads every thread back from both sides: for each namespace, `list` on the destination must
 * yield the source's checkpoints in the same order, each equal (decoded) to what the stock saver's
 * `getTuple` returns for it, and `getTuple` without an id must return the same latest checkpoint.
 * One namespace's ids are held at a time; values one checkpoint at a time.
 */
async function verifyAll(
  source: StockSource,
  destination: LeanCheckpointSaver,
  report: ImportReport,
  context: CommandContext,
): Promise<void> {
  let group: { threadId: string; checkpointNs: string; keys: CheckpointKey[] } | undefined;
  let lastThreadId: string | undefined;
  let threadFailed = false;
  const finishGroup = async () => {
    if (group === undefined) return;
    const mismatch = await verifyNamespace(source, destination, group.keys, context, report);
    if (mismatch !== undefined) {
      threadFailed = true;
      if (report.mismatches.length < maxListedMismatches) report.mismatches.push(mismatch);
    }
  };
  const finishThread = () => {
    if (lastThreadId !== undefined && !threadFailed) report.verifiedThreads += 1;
    threadFailed = false;
  };
  for await (const key of source.keys()) {
    await safePoint(context.signal);
    if (
      group === undefined ||
      group.threadId !== key.threadId ||
      group.checkpointNs !== key.checkpointNs
    ) {
      await finishGroup();
      if (lastThreadId !== key.threadId) {
        finishThread();
        lastThreadId = key.threadId;
      }
      group = { threadId: key.threadId, checkpointNs: key.checkpointNs, keys: [] };
    }
    group.keys.push(key);
  }
  await finishGroup();
  finishThread();
}

async function verifyNamespace(
  source: StockSource,
  destination: LeanCheckpointSaver,
  keys: CheckpointKey[],
  context: CommandContext,
  report: ImportReport,
): Promise<ImportMismatch | undefined> {
  const { threadId, checkpointNs } = keys[0]!;
  const mismatch = (checkpointId: string | undefined, difference: string): ImportMismatch => ({
    threadId,
    checkpointNs,
    checkpointId,
    difference,
  });
  // Newest first, as list() yields.
  const expected = keys.map((key) => key.checkpointId).reverse();
  let index = 0;
  for await (const listed of destination.list({
    configurable: { thread_id: threadId, checkpoint_ns: checkpointNs },
  })) {
    await safePoint(context.signal);
    const listedId = listed.config.configurable?.checkpoint_id as string;
    if (index >= expected.length)
      return mismatch(listedId, "list yields a checkpoint the source does not have");
    if (listedId !== expected[index]) {
      return mismatch(
        expected[index],
        `list yields ${listedId} where the source has ${expected[index]}`,
      );
    }
    const sourceTuple = await source.getTuple({ threadId, checkpointNs, checkpointId: listedId });
    if (sourceTuple === undefined)
      return mismatch(listedId, "the source no longer has this checkpoint");
    const difference = tupleDifference(sourceTuple, listed);
    if (difference !== undefined) return mismatch(listedId, difference);
    index += 1;
    report.verifiedCheckpoints += 1;
    context.progress.update(report.verifiedCheckpoints);
  }
  if (index < expected.length) {
    return mismatch(expected[index], `list stops after ${index} of ${expected.length} checkpoints`);
  }
  // The source's latest is its largest id (what the stock savers' ORDER BY checkpoint_id DESC
  // returns); the destination's getTuple without an id must return that one.
  const latestConfig = { configurable: { thread_id: threadId, checkpoint_ns: checkpointNs } };
  const latestId = expected[0];
  const destinationLatestId = (await destination.getTuple(latestConfig))?.config.configurable
    ?.checkpoint_id;
  if (destinationLatestId !== latestId) {
    return mismatch(
      latestId,
      `getTuple (latest) returns ${destinationLatestId} where the source's latest is ${latestId}`,
    );
  }
  return undefined;
}

function renderImport(report: ImportReport): string {
  const lines = [
    `from ${report.from}`,
    `to   ${report.to}`,
    `${formatCount(report.threads)} threads, ${formatCount(report.checkpoints)} checkpoints: ${formatCount(report.imported)} imported, ${formatCount(report.alreadyPresent)} already there; ${formatCount(report.writes)} pending writes`,
    `bytes: ${formatBytes(report.sourceBytes)} before (stock) -> ${formatBytes(report.destinationBytes)} after (lean), ${report.destinationBytes > 0 ? (report.sourceBytes / report.destinationBytes).toFixed(1) : "-"}x smaller`,
    `import ${(report.importMs / 1000).toFixed(1)} s (${report.sourceMbPerSecond.toFixed(1)} MB/s of source), verify ${(report.verifyMs / 1000).toFixed(1)} s, peak RSS ${formatBytes(report.peakRssBytes)}`,
  ];
  if (report.status === "interrupted") {
    lines.push(
      "Interrupted: everything imported so far is complete; rerun the same command to continue.",
    );
  } else if (report.status === "mismatch") {
    lines.push(`${report.mismatches.length} thread(s) read back different:`);
    for (const m of report.mismatches) {
      lines.push(
        `  thread ${m.threadId}${m.checkpointNs ? ` ns ${m.checkpointNs}` : ""}, checkpoint ${m.checkpointId ?? "-"}: ${m.difference}`,
      );
    }
  } else {
    lines.push(
      `verified: ${formatCount(report.verifiedThreads)} threads, ${formatCount(report.verifiedCheckpoints)} checkpoints read back equal (getTuple and list)`,
    );
  }
  return lines.join("\n");
}
