import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { storageBreakdown, storedCheckpoints } from "@leangraph/checkpointer/inspect";
import { LeangraphError } from "@leangraph/serde";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { type DatabaseKind, requireKind } from "../database/detect-kind.js";
import { ExitCode } from "../exit-codes.js";
import { safePoint } from "../interrupt.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { openStockSource } from "../stock/open-stock-source.js";
import { StockPostgresSource } from "../stock/stock-postgres-source.js";
import type { StockSource } from "../stock/stock-source.js";
import { type FoundIn, LargestValues } from "../values/largest-values.js";
import { measureValue } from "../values/value-size.js";
import { type CommandContext, type CommandOutcome, peakRssBytes } from "./command.js";
import type { ChannelBytes, InspectReport } from "./inspect-report.js";
import { renderInspect } from "./render-inspect.js";

export interface InspectOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
  top: number;
  /** Settles a Postgres schema holding both kinds. */
  kind?: DatabaseKind;
}

/** Values smaller than this are not listed one by one (their parent is, if it is large). */
const largeValueMinBytes = 1024;
/** Distinct large values tracked (see LargestValues): far more than any report shows. */
const trackedValues = 1000;

export async function runInspect(
  options: InspectOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  const kind = await requireKind(
    "<database>",
    options.database,
    ["stock", "lean"],
    options.kind ?? "lean",
  );
  const report =
    kind === "stock" ? await inspectStock(options, context) : await inspectLean(options, context);
  report.peakRssBytes = peakRssBytes();
  return {
    exitCode: ExitCode.ok,
    report: report as unknown as Record<string, unknown>,
    text: renderInspect(report, options.top),
  };
}

class ChannelTally {
  readonly #channels = new Map<string, ChannelBytes>();

  add(channel: string, valueBytes: number, writeBytes: number): void {
    const entry = this.#channels.get(channel) ?? {
      channel,
      valueBytes: 0,
      writeBytes: 0,
      totalBytes: 0,
    };
    this.#channels.set(channel, entry);
    entry.valueBytes += valueBytes;
    entry.writeBytes += writeBytes;
    entry.totalBytes += valueBytes + writeBytes;
  }

  sorted(): ChannelBytes[] {
    return [...this.#channels.values()].sort((a, b) => b.totalBytes - a.totalBytes);
  }
}

function measureInto(largest: LargestValues, value: unknown, where: FoundIn): number {
  return measureValue(value, where.channel, largeValueMinBytes, (found) =>
    largest.offer(found, where),
  );
}

async function inspectStock(
  options: InspectOptions,
  context: CommandContext,
): Promise<InspectReport> {
  const source = await openStockSource(options.database);
  try {
    const totals = await source.totals();
    const threads = await source.threadSizes();
    const largest = new LargestValues(trackedValues);
    const channels =
      source instanceof StockPostgresSource
        ? await walkStockPostgres(source, largest, context)
        : await walkStockCheckpoints(source, totals.checkpoints, largest, context);
    return {
      database: describeTarget(options.database),
      kind: "stock",
      backend: source.backend,
      totals: { ...totals, blobBytes: 0, blobCount: 0 },
      channelBytesAre:
        source instanceof StockPostgresSource ? "stored" : "estimated from decoded values",
      channels: channels.sorted(),
      largestValues: largest
        .top(options.top)
        .map((value) => ({ ...value, storedBytes: value.bytes * value.copies })),
      threads: threads.map((thread) => ({ ...thread })),
      notes: [
        "A stock saver stores the whole state again at every checkpoint. To store each value once: leangraph import --from <this database> --to <lean.sqlite | postgres://…>",
      ],
      peakRssBytes: 0,
    };
  } finally {
    await source.close();
  }
}

/**
 * SqliteSaver keeps every channel value inside every checkpoint row: decode each checkpoint with
 * the stock saver (one at a time) and measure what each channel takes in it.
 */
async function walkStockCheckpoints(
  source: StockSource,
  checkpointCount: number,
  largest: LargestValues,
  context: CommandContext,
): Promise<ChannelTally> {
  const channels = new ChannelTally();
  context.progress.phase("inspect", checkpointCount, "checkpoints");
  let done = 0;
  for await (const key of source.keys()) {
    await safePoint(context.signal);
    const tuple = await source.getTuple(key);
    if (tuple === undefined) continue;
    for (const [channel, value] of Object.entries(tuple.checkpoint.channel_values ?? {})) {
      const bytes = measureInto(largest, value, {
        channel,
        threadId: key.threadId,
        at: key.checkpointId,
        source: "state",
      });
      channels.add(channel, bytes, 0);
    }
    for (const [, channel, value] of tuple.pendingWrites ?? []) {
      const bytes = measureInto(largest, value, {
        channel,
        threadId: key.threadId,
        at: key.checkpointId,
        source: "write",
      });
      channels.add(channel, 0, bytes);
    }
    done += 1;
    context.progress.update(done);
  }
  context.progress.done();
  return channels;
}

/**
 * PostgresSaver keeps each channel version once (checkpoint_blobs): channel bytes come exact from
 * SQL; each blob and each write is decoded once, by the stock serializer, for the largest values.
 */
async function walkStockPostgres(
  source: StockPostgresSource,
  largest: LargestValues,
  context: CommandContext,
): Promise<ChannelTally> {
  const channels = new ChannelTally();
  for (const entry of await source.bytesPerChannel())
    channels.add(entry.channel, entry.valueBytes, entry.writeBytes);
  context.progress.phase("inspect channel values", undefined, "blobs");
  let done = 0;
  for await (const key of source.blobKeys()) {
    await safePoint(context.signal);
    const loaded = await source.blobValue(key);
    if (loaded !== undefined) {
      measureInto(largest, loaded.value, {
        channel: key.channel,
        threadId: key.threadId,
        at: `${key.channel} version ${key.version}`,
        source: "state",
      });
    }
    context.progress.update(++done);
  }
  context.progress.phase("inspect pending writes", undefined, "writes");
  done = 0;
  for await (const key of source.writeKeys()) {
    await safePoint(context.signal);
    measureInto(largest, await source.writeValue(key), {
      channel: key.channel,
      threadId: key.threadId,
      at: key.checkpointId,
      source: "write",
    });
    context.progress.update(++done);
  }
  context.progress.done();
  return channels;
}

async function inspectLean(
  options: InspectOptions,
  context: CommandContext,
): Promise<InspectReport> {
  const store = await openLeanStore(options.database, options.lean);
  try {
    const stats = await store.saver.storageStats();
    context.progress.phase("inspect storage", undefined, "threads");
    const breakdown = await storageBreakdown(store.saver, {
      signal: context.signal,
      onThread: (done) => context.progress.update(done),
    });
    context.progress.done();
    const { largest, unreadable } = await largestInLatestStates(
      store.saver,
      breakdown.threads.map((thread) => thread.threadId),
      context,
    );
    const channels = new ChannelTally();
    for (const channel of breakdown.channels) channels.add(channel.channel, channel.bytes, 0);
    const notes = unreadable.map(
      (line) =>
        `Latest state not readable, so its values are not listed: ${line}. Run leangraph verify.`,
    );
    if (breakdown.missingPieces + breakdown.damagedPieces > 0) {
      notes.push(
        `${breakdown.missingPieces} missing and ${breakdown.damagedPieces} damaged items or blobs are referenced: run leangraph verify to name them.`,
      );
    }
    return {
      database: describeTarget(options.database),
      kind: "lean",
      backend: options.database.backend,
      totals: {
        databaseBytes: stats.dbBytes,
        blobBytes: stats.blobBytes,
        blobCount: stats.blobCount,
        threads: breakdown.threads.length,
        checkpoints: stats.checkpointCount,
        writes: breakdown.threads.reduce((sum, thread) => sum + thread.writes, 0),
      },
      channelBytesAre: "unique stored content",
      channels: channels.sorted(),
      largestValues: largest
        .top(options.top)
        .map((value) => ({ ...value, storedBytes: value.bytes })),
      threads: breakdown.threads.map((thread) => ({
        threadId: thread.threadId,
        namespaces: thread.namespaces,
        checkpoints: thread.checkpoints,
        writes: thread.writes,
        bytes: thread.bytes,
      })),
      orphanBlobs: breakdown.orphanBlobs.map((blob) => ({
        id: blob.id,
        bytes: blob.bytes,
        writtenAt: new Date(blob.writtenAtMs).toISOString(),
      })),
      orphanBlobBytes: breakdown.orphanBlobBytes,
      missingPieces: breakdown.missingPieces,
      damagedPieces: breakdown.damagedPieces,
      notes,
      peakRssBytes: 0,
    };
  } finally {
    await store.close();
  }
}

/** The latest checkpoint of every namespace of every thread, decoded through the saver's API. */
async function largestInLatestStates(
  saver: LeanCheckpointSaver,
  threadIds: readonly string[],
  context: CommandContext,
): Promise<{ largest: LargestValues; unreadable: string[] }> {
  const largest = new LargestValues(trackedValues);
  const unreadable: string[] = [];
  context.progress.phase("inspect values", threadIds.length, "threads");
  for (const [index, threadId] of threadIds.entries()) {
    await safePoint(context.signal);
    const namespaces = new Set(
      (await storedCheckpoints(saver, threadId)).map((stored) => stored.checkpointNs),
    );
    for (const checkpointNs of namespaces) {
      let tuple: Awaited<ReturnType<LeanCheckpointSaver["getTuple"]>>;
      try {
        tuple = await saver.getTuple({
          configurable: { thread_id: threadId, checkpoint_ns: checkpointNs },
        });
      } catch (error) {
        // Damage is verify's to name in full; inspect still answers for everything readable.
        if (!(error instanceof LeangraphError)) throw error;
        unreadable.push(
          `thread ${threadId}${checkpointNs ? ` ns ${checkpointNs}` : ""} (${error.code})`,
        );
        continue;
      }
      if (tuple === undefined) continue;
      const at = tuple.config.configurable?.checkpoint_id as string;
      for (const [channel, value] of Object.entries(tuple.checkpoint.channel_values ?? {})) {
        measureInto(largest, value, { channel, threadId, at, source: "state" });
      }
    }
    context.progress.update(index + 1);
  }
  context.progress.done();
  return { largest, unreadable };
}
