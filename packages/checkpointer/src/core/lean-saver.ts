import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import {
  type BlobStore,
  type CompressionOptions,
  type CompressionSetting,
  type EncryptionKeySource,
  isStagedSerializer,
  keyRingResolver,
  LruMap,
  RedactingSerializer,
  resolveCompression,
  UnserializableError,
} from "@leangraph/serde";
import {
  type PayloadPreparer,
  type PreparedValue,
  type PreparedValues,
  payloadPreparerFor,
} from "../codec/payload-preparer.js";
import {
  type CodecOptions,
  defaultValueCodecOptions,
  type EncodedValue,
  ValueCodec,
  type ValueCodecOptions,
} from "../codec/value-codec.js";
import { channelRefsJson, rootItemIds } from "../codec/value-ref.js";
import { checkpointPutChannel, putEvent } from "../diagnostics.js";
import { configInvalidError, unstorableError } from "../errors.js";
import { type ChannelRefs, type ChannelVersion, channelRefsOfRow } from "./channel-refs.js";
import { encryptRowStore, refuseSealedRows } from "./encrypted-rows.js";
import { collectGarbage, type GcReport } from "./lifecycle/mark-sweep.js";
import { pruneRows } from "./lifecycle/prune.js";
import { type PruneOptions, type RetentionRule, retentionRuleOf } from "./lifecycle/retention.js";
import {
  defaultSweepIntervalMs,
  type RetentionOptions,
  RetentionSweeper,
} from "./lifecycle/retention-sweeper.js";
import { createdAtMsOf } from "./migration-context.js";
import { blobTotals, findGarbage, type GarbageReport } from "./reachability.js";
import { ItemCache } from "./read/item-cache.js";
import { VerifiedItemReader } from "./read/item-reader.js";
import { TupleReader } from "./read/tuple-reader.js";
import { registerRekeyAccess } from "./rekey.js";
import type { CheckpointRow, RowStore, WriteRow } from "./row-store.js";
import { registerSaverRows } from "./saver-rows-registry.js";
import { guardRowStore } from "./storage-errors.js";
import { PutCommitter, StaleEncodeError } from "./write/commit.js";

/** What `prune` did (or, with `dryRun`, would do). */
export interface PruneReport {
  /** Checkpoints removed (with their pending writes). */
  deletedCheckpoints: number;
  /** Kept checkpoints that now carry the part of a delta channel's history the prune removed. */
  checkpointsWithRetainedHistory: number;
  /** What the collection after the prune freed; zero for a dry run. */
  gc: GcReport;
  dryRun: boolean;
}

/** What `storageStats()` reports; the demo agent prints it, the bench compares it. */
export interface StorageStats {
  /** Database files (SQLite: db + WAL + shm) or relation sizes (Postgres), in bytes. */
  dbBytes: number;
  blobBytes: number;
  blobCount: number;
  checkpointCount: number;
  /** Largest checkpoint row: ids + serialized checkpoint skeleton + metadata + channel refs. */
  largestCheckpointRowBytes: number;
}

export interface LeanSaverOptions {
  /**
   * Serializer for values, metadata and writes. The default externalizes large strings, arrays
   * and objects into the saver's own blob store (shared, so gc sees every blob) and stores large
   * strings as content-defined chunks: without it a saver built directly would store every
   * version of a large value whole. A stock JsonPlusSerializer works too, with none of that.
   * @default new RedactingSerializer({ blobStore })
   */
  serde?: SerializerProtocol | undefined;
  /** Where items of at least `codec.blobMinBytes` go. */
  blobStore: BlobStore;
  codec?: CodecOptions | undefined;
  /**
   * deleteThread/prune delete blobs without an item row (the serializer's) only when older than
   * this: far longer than any put takes from serializing to committing.
   * @default 60000
   */
  orphanGraceMs?: number | undefined;
  /** A retention policy applied in the background; none by default (nothing is ever removed). */
  retention?: RetentionOptions | undefined;
  /**
   * Memory for bodies of database items (tree nodes, small values) recently written or read, so
   * reading a checkpoint back re-reads only what changed; 0 turns it off. See core/read/item-cache.ts.
   * @default 8388608 (8 MiB)
   */
  itemCacheBytes?: number | undefined;
  /**
   * Encrypts every stored row payload and database item body (AES-256-GCM, bound to its place;
   * see core/encrypted-rows.ts): `"id2:<base64 32 bytes>,id1:…"`, a list of `{ id, key }`, or an
   * async provider (a KMS). The first key encrypts, every listed key decrypts. Unset: no
   * encryption, and an encrypted database is refused.
   * @default undefined (LG_ENCRYPTION_KEYS through createCheckpointer)
   */
  encryptionKeys?: EncryptionKeySource | undefined;
  /**
   * How value bodies kept in the database are stored (`LG_COMPRESSION` through createCheckpointer):
   * `auto` compresses with brotli, which every supported Node reads. Bodies stored otherwise keep
   * loading whatever this says. The saver's default blob store uses it too.
   * @default "auto"
   */
  compression?: CompressionSetting | CompressionOptions | undefined;
}

const defaultItemCacheBytes = 8 * 1024 * 1024;

function threadIdOf(config: RunnableConfig, operation: string): string {
  const threadId = config.configurable?.thread_id;
  if (threadId === undefined || threadId === null || threadId === "") {
    throw configInvalidError(
      `${operation} needs config.configurable.thread_id; got ${JSON.stringify(config.configurable ?? null)}.`,
    );
  }
  return String(threadId);
}

/**
 * Saver logic shared by LeanSqliteSaver and LeanPostgresSaver: what is stored where, and in which
 * order, so that rows stay small and storage grows with unique bytes only.
 *
 * - A checkpoint row holds the checkpoint without its values, the metadata, and per channel a
 *   `{ version, ref }`. Only channels in `newVersions` are encoded; the others inherit the parent's
 *   ref. Values are addressed by content, never by (thread, channel, version), so a time-travel
 *   fork that reuses a version number can never pick up another branch's value.
 * - Pending writes go through the same codec, so a value written by a task and then folded into a
 *   channel is stored once.
 * - Order of a put: serialize and hash (no transaction open), write blobs durably, then one short
 *   write transaction inserts items and the row. A crash at any point leaves either the old state
 *   or the new one, plus at worst orphan blobs that `gc()` reclaims.
 */
export abstract class LeanCheckpointSaver extends BaseCheckpointSaver {
  protected readonly rows: RowStore;
  readonly blobStore: BlobStore;
  readonly #codec: ValueCodec;
  readonly #orphanGraceMs: number;
  /** Serializes the checkpoint skeleton and metadata (stored in the row itself). */
  readonly #rowPayloads: PayloadPreparer;
  /** Channel refs of recently written checkpoints, by thread/namespace/id (see #parentRefs). */
  readonly #recentRefs = new LruMap<string, ChannelRefs>({ maxWeight: 1024 });
  readonly #sweeper: RetentionSweeper | undefined;
  readonly #itemCache: ItemCache;
  /** Item bodies for the codec, hash-checked (core/read/item-reader.ts). */
  readonly #items: VerifiedItemReader;
  /** The commit protocol of every put (core/write/commit.ts). */
  readonly #committer: PutCommitter;
  /** Rows back to tuples, lists and DeltaChannel histories (core/read/tuple-reader.ts). */
  readonly #reader: TupleReader;
  #setupDone: Promise<void> | undefined;

  protected constructor(rows: RowStore, options: LeanSaverOptions) {
    super(options.serde ?? new RedactingSerializer({ blobStore: options.blobStore }));
    this.rows = guardRowStore(
      options.encryptionKeys === undefined
        ? refuseSealedRows(rows)
        : encryptRowStore(rows, keyRingResolver(options.encryptionKeys)),
    );
    registerSaverRows(this, this.rows);
    registerRekeyAccess(this, {
      rawRows: guardRowStore(rows),
      blobStore: options.blobStore,
      encryptionKeys: options.encryptionKeys,
      setup: () => this.setup(),
    });
    this.blobStore = options.blobStore;
    const codecOptions: ValueCodecOptions = {
      ...defaultValueCodecOptions,
      ...options.codec,
      tree: { ...defaultValueCodecOptions.tree, ...options.codec?.tree },
    };
    this.#codec = new ValueCodec(this.serde, codecOptions);
    this.#orphanGraceMs = options.orphanGraceMs ?? 60_000;
    this.#itemCache = new ItemCache(options.itemCacheBytes ?? defaultItemCacheBytes);
    this.#rowPayloads = payloadPreparerFor(this.serde);
    this.#items = new VerifiedItemReader(this.rows, this.blobStore, this.#itemCache, () =>
      this.setup(),
    );
    this.#committer = new PutCommitter(
      this.rows,
      this.blobStore,
      isStagedSerializer(this.serde) ? this.serde : undefined,
      this.#itemCache,
      resolveCompression(options.compression ?? "auto"),
    );
    this.#reader = new TupleReader(this.rows, this.serde, this.#codec, this.#items, (current) =>
      this.getNextVersion(current),
    );
    const retention = options.retention;
    if (retention !== undefined) {
      const rule = retentionRuleOf(retention, "retention");
      this.#sweeper = new RetentionSweeper(
        {
          threadIds: async (after, limit) => {
            await this.setup();
            return this.rows.threadIds(after, limit);
          },
          pruneForRetention: (threadIds, sweepRule) => this.#prune(threadIds, sweepRule, false),
        },
        rule,
        retention,
      );
      this.#sweeper.start(retention.sweepIntervalMs ?? defaultSweepIntervalMs);
    }
  }

  /**
   * Creates or migrates the saver's tables (append-only migrations; idempotent; safe when several
   * processes start at once) and the blob store's, if it has any. Every other method calls it
   * first, so calling it yourself only moves the work (and any failure) to start-up.
   */
  setup(): Promise<void> {
    this.#setupDone ??= (async () => {
      await this.rows.migrate({ serde: this.serde, blobStore: this.blobStore });
      await this.blobStore.setup?.();
    })().catch((error: unknown) => {
      this.#setupDone = undefined;
      throw error;
    });
    return this.#setupDone;
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id;
    if (threadId === undefined || threadId === null) return undefined;
    await this.setup();
    return this.#reader.getTuple(String(threadId), config);
  }

  async *list(
    config: RunnableConfig,
    options?: CheckpointListOptions,
  ): AsyncGenerator<CheckpointTuple> {
    await this.setup();
    yield* this.#reader.list(config, options);
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const threadId = threadIdOf(config, "put");
    const startedMs = performance.now();
    await this.setup();
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    const parentId: string | undefined = config.configurable?.checkpoint_id || undefined;
    const { channel_values: channelValues, ...skeleton } = checkpoint;
    const where = (channel: string) =>
      `channel ${JSON.stringify(channel)} of checkpoint ${checkpoint.id}, thread ${threadId}`;
    const [rowPayloads, parentRefs] = await Promise.all([
      this.#prepareOrExplain(
        [skeleton, metadata],
        ["checkpoint", "metadata"],
        `checkpoint ${checkpoint.id}, thread ${threadId}`,
      ),
      parentId === undefined
        ? ({} as ChannelRefs)
        : this.#parentRefs(threadId, checkpointNs, parentId),
    ]);
    const [checkpointPayload, metadataPayload] = rowPayloads.values as [
      PreparedValue,
      PreparedValue,
    ];
    const heldVersions =
      parentId === undefined &&
      Object.keys(channelValues ?? {}).some((channel) => !(channel in newVersions))
        ? await this.#versionsHeld(threadId, checkpointNs)
        : undefined;

    const attempt = async (inherit: boolean) => {
      const refs: ChannelRefs = {};
      const encodes: EncodedValue[] = [];
      const inheritedRootIds: string[] = [];
      for (const [channel, value] of Object.entries(channelValues ?? {})) {
        if (value === undefined) continue;
        const version = checkpoint.channel_versions[channel] as ChannelVersion;
        const parentRef = parentRefs[channel];
        if (
          !(channel in newVersions) &&
          inherit &&
          parentRef !== undefined &&
          parentRef.v === version
        ) {
          refs[channel] = parentRef;
          inheritedRootIds.push(...rootItemIds(parentRef.r));
        } else if (
          channel in newVersions ||
          parentId !== undefined ||
          heldVersions?.has(heldVersionKey(channel, version))
        ) {
          // Stored unless the parent row holds it at this version. A parent that lacks the
          // channel (pruned, or a caller that skips versions) must not lose it. Without a parent,
          // a channel outside newVersions is one the caller says is unchanged: LangGraph's copy
          // of a thread's first checkpoint (`updateState(…, "__copy__")`) passes
          // `newVersions = {}`. PostgresSaver reads such a value back when the thread stored the
          // channel at that version before, and not otherwise (the conformance suite checks
          // both), so the lean savers store it in exactly that case, from this checkpoint's own
          // value rather than by version, so another branch's value can never come back.
          const encoded = await this.#encodeOrExplain(
            value,
            inherit ? `${threadId}\0${checkpointNs}\0${channel}` : undefined,
            channel,
            where(channel),
          );
          encodes.push(encoded);
          refs[channel] = { v: version, r: encoded.ref };
        }
      }
      const row: CheckpointRow = {
        threadId,
        checkpointNs,
        checkpointId: checkpoint.id,
        parentCheckpointId: parentId,
        checkpointType: checkpointPayload.type,
        checkpoint: checkpointPayload.bytes,
        metadataType: metadataPayload.type,
        metadata: metadataPayload.bytes,
        channelRefs: channelRefsJson(refs),
        createdAtMs: createdAtMsOf(checkpoint.ts) ?? undefined,
        blobRefs: [...new Set([...checkpointPayload.blobIds, ...metadataPayload.blobIds])],
      };
      const committed = await this.#committer.commit(
        threadId,
        { encodes, rowPayloads: rowPayloads.toWrite, inheritedRootIds },
        (tx) => tx.upsertCheckpoint(row),
      );
      this.#rememberRefs(threadId, checkpointNs, checkpoint.id, refs);
      if (checkpointPutChannel.hasSubscribers) {
        const rowBytes =
          row.checkpoint.byteLength + row.metadata.byteLength + row.channelRefs.length;
        checkpointPutChannel.publish(putEvent("put", startedMs, rowBytes, committed));
      }
    };
    try {
      await attempt(true);
    } catch (error) {
      if (!(error instanceof StaleEncodeError)) throw error;
      this.#codec.forgetReuse();
      await attempt(false);
    }
    return {
      configurable: {
        thread_id: threadId,
        checkpoint_ns: checkpointNs,
        checkpoint_id: checkpoint.id,
      },
    };
  }

  /**
   * Plans how a value is stored (no I/O: every value of a put is planned before anything is
   * written, see #commit); one the serializer cannot store is refused naming `where` and the
   * path from `root`, as in `files[2] is a function`.
   */
  async #encodeOrExplain(
    value: unknown,
    reuseKey: string | undefined,
    root: string,
    where: string,
  ): Promise<EncodedValue> {
    try {
      return await this.#codec.encode(value, reuseKey);
    } catch (error) {
      if (error instanceof UnserializableError)
        throw unstorableError(where, error.describeAt(root), error);
      throw error;
    }
  }

  /** #encodeOrExplain for the values a row holds itself; `roots` names each in errors. */
  async #prepareOrExplain(
    values: unknown[],
    roots: string[],
    where: string,
  ): Promise<PreparedValues> {
    try {
      return await this.#rowPayloads.prepare(values, false);
    } catch (error) {
      if (!(error instanceof UnserializableError)) throw error;
      const position = error.path[0];
      error.dropLeadingSteps(1);
      const root = typeof position === "number" ? roots[position] : undefined;
      throw unstorableError(where, error.describeAt(root ?? "value"), error);
    }
  }

  /** Every channel@version that a checkpoint of this thread namespace stores a value for. */
  async #versionsHeld(threadId: string, checkpointNs: string): Promise<Set<string>> {
    const held = new Set<string>();
    for (const row of await this.rows.listCheckpoints({ threadId, checkpointNs })) {
      for (const [channel, { v }] of Object.entries(channelRefsOfRow(row)))
        held.add(heldVersionKey(channel, v));
    }
    return held;
  }

  /**
   * The parent's channel refs, usually from memory: LangGraph puts each checkpoint as the child of
   * the one it put just before, so reading the parent row back is a wasted round trip. A remembered
   * ref whose items were deleted since is caught by the in-transaction existence check.
   */
  async #parentRefs(
    threadId: string,
    checkpointNs: string,
    parentId: string,
  ): Promise<ChannelRefs> {
    const key = `${threadId}\0${checkpointNs}\0${parentId}`;
    const remembered = this.#recentRefs.peek(key);
    if (remembered !== undefined) return remembered;
    const row = await this.rows.getCheckpoint(threadId, checkpointNs, parentId);
    return row ? channelRefsOfRow(row) : {};
  }

  #rememberRefs(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
    refs: ChannelRefs,
  ): void {
    this.#recentRefs.set(`${threadId}\0${checkpointNs}\0${checkpointId}`, refs);
  }

  async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    const threadId = threadIdOf(config, "putWrites");
    const startedMs = performance.now();
    await this.setup();
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    const checkpointId: string | undefined = config.configurable?.checkpoint_id;
    if (!checkpointId) {
      throw configInvalidError(
        "putWrites needs config.configurable.checkpoint_id (the checkpoint the writes belong to).",
      );
    }
    const encodes: EncodedValue[] = [];
    const rows: WriteRow[] = [];
    for (const [index, [channel, value]] of writes.entries()) {
      const encoded = await this.#encodeOrExplain(
        value,
        undefined,
        `writes[${index}]`,
        `write ${index} (channel ${JSON.stringify(channel)}) of task ${taskId}, checkpoint ${checkpointId}, thread ${threadId}`,
      );
      encodes.push(encoded);
      rows.push({
        taskId,
        idx: (WRITES_IDX_MAP as Record<string, number>)[channel] ?? index,
        channel,
        taskPath: taskPath ?? "",
        valueRef: JSON.stringify(encoded.ref),
      });
    }
    const committed = await this.#committer.commit(
      threadId,
      { encodes, rowPayloads: [], inheritedRootIds: [] },
      (tx) => tx.insertWrites(threadId, checkpointNs, checkpointId, rows),
    );
    if (checkpointPutChannel.hasSubscribers) {
      const rowBytes = rows.reduce((total, row) => total + row.valueRef.length, 0);
      checkpointPutChannel.publish(putEvent("putWrites", startedMs, rowBytes, committed));
    }
  }

  /**
   * Reads only what the walk needs (core/read/delta-history.ts): the ancestors' rows, their writes to
   * the requested channels and the one seed value per channel, instead of decoding every channel
   * of every ancestor; past a pruned ancestor, the history the prune retained.
   */
  override async getDeltaChannelHistory(options: { config: RunnableConfig; channels: string[] }) {
    if (options.channels.length === 0) return {};
    await this.setup();
    return (await this.#reader.deltaChannelHistory(options)) as never;
  }

  /**
   * Removes the thread's rows, then every item and blob no remaining row references. Blobs that
   * never had an item row of their own (the serializer's) are deleted once older than
   * `orphanGraceMs`; younger ones wait for the next `gc()`.
   */
  async deleteThread(threadId: string): Promise<void> {
    await this.setup();
    await this.rows.write((tx) => tx.deleteThread(threadId), { exclusive: true });
    await this.#collect(this.#orphanGraceMs);
  }

  /**
   * Removes old checkpoints (and their pending writes) of these threads, then what only they used.
   * `keepLast`: the newest N per namespace stay; `maxAgeMs`: only checkpoints older than that go
   * (the newest `keepLast`, default 1, stay whatever their age). Every checkpoint that remains
   * reads back exactly as before, DeltaChannel values included: a channel that LangGraph rebuilds
   * from ancestors' writes keeps the part of that history the prune removed (retained history).
   */
  async prune(threadIds: readonly string[], options: PruneOptions): Promise<PruneReport> {
    const rule = retentionRuleOf(options, "prune");
    const { deletedCheckpoints, checkpointsWithRetainedHistory, gc } = await this.#prune(
      threadIds,
      rule,
      options.dryRun === true,
    );
    return {
      deletedCheckpoints,
      checkpointsWithRetainedHistory,
      gc,
      dryRun: options.dryRun === true,
    };
  }

  async #prune(
    threadIds: readonly string[],
    rule: RetentionRule,
    dryRun: boolean,
  ): Promise<Omit<PruneReport, "dryRun">> {
    await this.setup();
    const counts = await pruneRows(this.rows, this.serde, threadIds, rule, {
      dryRun,
      nowMs: Date.now(),
    });
    const gc =
      dryRun || counts.deletedCheckpoints === 0
        ? { deletedItems: 0, deletedBlobs: 0 }
        : await this.#collect(this.#orphanGraceMs);
    return { ...counts, gc };
  }

  /** Every thread id, in ascending order, read in pages. */
  async *listThreadIds(): AsyncGenerator<string> {
    await this.setup();
    const pageSize = 1000;
    for (let after: string | undefined; ; ) {
      const page = await this.rows.threadIds(after, pageSize);
      yield* page;
      if (page.length < pageSize) return;
      after = page[page.length - 1];
    }
  }

  /** One retention sweep now (the next batch of threads); requires the `retention` option. */
  async sweepRetention() {
    if (this.#sweeper === undefined)
      throw configInvalidError("sweepRetention needs the saver's `retention` option.");
    return this.#sweeper.sweep();
  }

  /** Copies every checkpoint and write of a thread; items are shared by content, nothing is duplicated. */
  async copyThread(fromThreadId: string, toThreadId: string): Promise<void> {
    await this.setup();
    await this.rows.write((tx) => tx.copyThread(fromThreadId, toThreadId), { exclusive: true });
  }

  /**
   * Mark-and-sweep over the whole store: deletes items no row references and blobs nothing names.
   * Blobs without an item row (left by a crash between blob write and commit, or the serializer's
   * once unreferenced) are deleted only when older than `graceMs`, because a concurrent put may
   * have written one and not yet committed the row that references it.
   * @param options.graceMs @default 3_600_000 (one hour)
   */
  async gc(options: { graceMs?: number } = {}): Promise<GcReport> {
    await this.setup();
    return this.#collect(options.graceMs ?? 3_600_000);
  }

  async #collect(orphanGraceMs: number): Promise<GcReport> {
    // Remembered encodes may point at items about to be swept; the next put re-checks anyway,
    // but forgetting them here avoids a guaranteed retry.
    this.#codec.forgetReuse();
    this.#recentRefs.clear();
    try {
      const report = await collectGarbage(this.rows, this.blobStore, orphanGraceMs);
      await this.rows.reclaimSpace();
      return report;
    } finally {
      this.#itemCache.clear();
    }
  }

  async storageStats(): Promise<StorageStats> {
    await this.setup();
    const rowStats = await this.rows.stats();
    return { ...rowStats, ...(await blobTotals(this.blobStore)) };
  }

  /**
   * What `gc({ graceMs })` would delete now, and every blob nothing reaches, deleting nothing:
   * the same walk and rule as gc (core/reachability.ts), so a dry run and an orphan report agree
   * with what gc does. Retained DeltaChannel history, copied threads and pending writes are live.
   * @param options.graceMs @default 3_600_000 (one hour), as gc
   */
  async garbage(options: { graceMs?: number; nowMs?: number } = {}): Promise<GarbageReport> {
    await this.setup();
    return findGarbage(this.rows, this.blobStore, {
      graceMs: options.graceMs ?? 3_600_000,
      nowMs: options.nowMs ?? Date.now(),
    });
  }

  async close(): Promise<void> {
    await this.#sweeper?.stop();
    await this.rows.close();
    await this.blobStore.close?.();
  }
}

function heldVersionKey(channel: string, version: ChannelVersion): string {
  return `${channel}\0${typeof version}\0${version}`;
}
