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
} from "@langchain/langgraph-checkpoint";
import {
  type BlobStore,
  type CompressionOptions,
  type CompressionSetting,
  type ContentIds,
  contentIdsOf,
  type EncryptionKeySource,
  isStagedSerializer,
  type KeyRing,
  keyedContentIds,
  keyRingResolver,
  LeangraphError,
  LruMap,
  RedactingSerializer,
  resolveCompression,
  sameContentIds,
  sha256ContentIds,
} from "@leangraph/serde";
import { payloadPreparerFor } from "../codec/payload-preparer.js";
import {
  type CodecOptions,
  defaultValueCodecOptions,
  ValueCodec,
  type ValueCodecOptions,
} from "../codec/value-codec.js";
import { CheckpointerErrorCode, configInvalidError } from "../errors.js";
import type { ChannelRefs } from "./channel-refs.js";
import { encryptRowStore, refuseSealedRows } from "./encrypted-rows.js";
import { collectGarbage, type GcReport } from "./lifecycle/mark-sweep.js";
import { pruneRows } from "./lifecycle/prune.js";
import { type PruneOptions, type RetentionRule, retentionRuleOf } from "./lifecycle/retention.js";
import {
  defaultSweepIntervalMs,
  type RetentionOptions,
  RetentionSweeper,
} from "./lifecycle/retention-sweeper.js";
import { registerRawAccess } from "./raw-access.js";
import { blobTotals, findGarbage, type GarbageReport } from "./reachability.js";
import { ItemCache } from "./read/item-cache.js";
import { VerifiedItemReader } from "./read/item-reader.js";
import { TupleReader } from "./read/tuple-reader.js";
import type { RowStore } from "./row-store.js";
import { registerSaverRows } from "./saver-rows-registry.js";
import { guardRowStore } from "./storage-errors.js";
import { PutCommitter } from "./write/commit.js";
import { PutPlanner } from "./write/put-planner.js";

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
  /** Channel refs of recently written checkpoints, by thread/namespace/id (core/write/put-planner.ts). */
  readonly #recentRefs = new LruMap<string, ChannelRefs>({ maxWeight: 1024 });
  readonly #sweeper: RetentionSweeper | undefined;
  readonly #itemCache: ItemCache;
  /** Item bodies for the codec, hash-checked (core/read/item-reader.ts). */
  readonly #items: VerifiedItemReader;
  /** Plans every put and putWrites, then commits it (core/write/put-planner.ts, core/write/commit.ts). */
  readonly #planner: PutPlanner;
  /** Rows back to tuples, lists and DeltaChannel histories (core/read/tuple-reader.ts). */
  readonly #reader: TupleReader;
  /** The key ring, resolved at setup (undefined: no encryption). */
  readonly #ring: (() => Promise<KeyRing>) | undefined;
  #setupDone: Promise<void> | undefined;

  protected constructor(rows: RowStore, options: LeanSaverOptions) {
    super(options.serde ?? new RedactingSerializer({ blobStore: options.blobStore }));
    this.#ring =
      options.encryptionKeys === undefined ? undefined : keyRingResolver(options.encryptionKeys);
    this.rows = guardRowStore(
      this.#ring === undefined ? refuseSealedRows(rows) : encryptRowStore(rows, this.#ring),
    );
    registerSaverRows(this, this.rows, this.#ring !== undefined);
    const compression = resolveCompression(options.compression ?? "auto");
    registerRawAccess(this, {
      rawRows: guardRowStore(rows),
      blobStore: options.blobStore,
      encryptionKeys: options.encryptionKeys,
      compression,
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
    this.#items = new VerifiedItemReader(
      this.rows,
      this.blobStore,
      this.#itemCache,
      () => this.setup(),
      // Under encryption a body opened from its envelope is proven by the tag (bound to its id).
      this.#ring !== undefined,
    );
    this.#planner = new PutPlanner(
      this.rows,
      this.#codec,
      payloadPreparerFor(this.serde),
      this.#recentRefs,
      new PutCommitter(
        this.rows,
        this.blobStore,
        isStagedSerializer(this.serde) ? this.serde : undefined,
        this.#itemCache,
        compression,
      ),
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
      this.#codec.useContentIds(await this.#contentIds());
    })().catch((error: unknown) => {
      this.#setupDone = undefined;
      throw error;
    });
    return this.#setupDone;
  }

  /**
   * How items are named: keyed under the ring's current key when encryption is on, else sha256.
   * Items at least `blobMinBytes` big are the blob store's bodies under the same id, so the
   * store must name alike: a store that does not (one left unencrypted beside an encrypted
   * saver, or encrypting under another key) is refused here, before anything is written.
   */
  async #contentIds(): Promise<ContentIds> {
    const ids = this.#ring === undefined ? sha256ContentIds : keyedContentIds(await this.#ring());
    if (!sameContentIds(ids, await contentIdsOf(this.blobStore))) {
      throw new LeangraphError(
        CheckpointerErrorCode.invalidOption,
        this.#ring === undefined
          ? "The saver has no encryption keys but its blob store encrypts: the two must be opened with the same keys."
          : "The saver encrypts but its blob store does not name bodies by the same keyed ids: it is not encrypted, or under another current key.",
        {
          hint: "Give the blob store the saver's keys: layers [createCompressionLayer(…), ...encryptionLayers(keys)] (createCheckpointer and the savers' default stores do this).",
        },
      );
    }
    return ids;
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
    return this.#planner.put(threadId, startedMs, config, checkpoint, metadata, newVersions);
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
    return this.#planner.putWrites(threadId, startedMs, config, writes, taskId, taskPath);
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
