import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  getCheckpointId,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import {
  type BlobStore,
  blobClosureOf,
  isStagedSerializer,
  type PreparedPayload,
  RedactingSerializer,
  SerdeErrorCode,
  type StagedSerializer,
  UnserializableError,
} from "@leangraph/serde";
import {
  type PayloadPreparer,
  type PreparedValue,
  type PreparedValues,
  payloadPreparerFor,
} from "../codec/payload-preparer.js";
import { sha256Hex } from "../codec/tree-node.js";
import {
  type CodecOptions,
  defaultValueCodecOptions,
  type EncodedValue,
  type ItemReader,
  type NewItem,
  ValueCodec,
  type ValueCodecOptions,
} from "../codec/value-codec.js";
import { channelRefsJson, parseValueRef, rootItemIds } from "../codec/value-ref.js";
import { checkpointPutChannel, putEvent } from "../diagnostics.js";
import {
  configInvalidError,
  itemCorruptError,
  itemMissingError,
  unstorableError,
} from "../errors.js";
import { type ChannelRefs, type ChannelVersion, channelRefsOfRow } from "./channel-refs.js";
import { deltaHistoryRefs } from "./delta-history.js";
import { ItemCache } from "./item-cache.js";
import { collectGarbage, type GcReport } from "./mark-sweep.js";
import { createdAtMsOf } from "./migration-context.js";
import { KeyedMutex } from "./mutex.js";
import { blobTotals, findGarbage, type GarbageReport } from "./reachability.js";
import { type PruneOptions, planPrune, type RetentionRule, retentionRuleOf } from "./retention.js";
import {
  defaultSweepIntervalMs,
  type RetentionOptions,
  RetentionSweeper,
} from "./retention-sweeper.js";
import {
  type CheckpointRow,
  isJsonScalar,
  type RetainedHistory,
  type RowStore,
  type RowWriteTransaction,
  sortWrites,
  type WriteRow,
  writesOf,
} from "./row-store.js";
import { registerSaverRows } from "./saver-rows-registry.js";
import { guardRowStore } from "./storage-errors.js";

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
   * reading a checkpoint back re-reads only what changed; 0 turns it off. See core/item-cache.ts.
   * @default 8388608 (8 MiB)
   */
  itemCacheBytes?: number | undefined;
}

const defaultItemCacheBytes = 8 * 1024 * 1024;

/** Rows of a `list()` read per page: their pending writes come in one query. */
const listPageRows = 100;

/** What a commit stored: the items it planned and those its transaction found new. */
interface CommitOutcome {
  plannedItems: number;
  insertedItems: NewItem[];
}

/** Thrown inside a write transaction when reused items were swept meanwhile; the put re-encodes. */
class StaleEncodeError extends Error {}

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
  /** The serde when it stages its blob writes (RedactingSerializer); then every blob is known. */
  readonly #stagedSerde: StagedSerializer | undefined;
  /** Write commits of one thread run one at a time (see #commit). */
  readonly #threadCommits = new KeyedMutex();
  /** Channel refs of recently written checkpoints, by thread/namespace/id (see #parentRefs). */
  readonly #recentRefs = new Map<string, ChannelRefs>();
  readonly #sweeper: RetentionSweeper | undefined;
  readonly #itemCache: ItemCache;
  #setupDone: Promise<void> | undefined;

  protected constructor(rows: RowStore, options: LeanSaverOptions) {
    super(options.serde ?? new RedactingSerializer({ blobStore: options.blobStore }));
    this.rows = guardRowStore(rows);
    registerSaverRows(this, this.rows);
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
    this.#stagedSerde = isStagedSerializer(this.serde) ? this.serde : undefined;
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

  /** A reader whose corruption errors name `where` (thread, checkpoint, channel or write). */
  #readerFor(where: string): ItemReader {
    return { readItems: (ids) => this.#readItems(ids, where) };
  }

  /**
   * Database bodies are checked against their sha256 id here (they are < blobMinBytes, so this is
   * cheap); blob store bodies are checked by the store itself. A flipped byte must fail loudly,
   * never load as a different value.
   */
  async #readItems(ids: readonly string[], where: string): Promise<Map<string, Uint8Array>> {
    await this.setup();
    const result = new Map<string, Uint8Array>();
    const uncached: string[] = [];
    for (const id of ids) {
      const cached = this.#itemCache.get(id);
      if (cached === undefined) uncached.push(id);
      else result.set(id, cached);
    }
    const bodies =
      uncached.length > 0 ? await this.rows.itemBodies(uncached) : new Map<string, null>();
    const inBlobStore: string[] = [];
    for (const id of uncached) {
      const body = bodies.get(id);
      if (body === undefined) throw itemMissingError(id);
      if (body === null) inBlobStore.push(id);
      else if (sha256Hex(body) !== id) throw itemCorruptError(id, where);
      else {
        result.set(id, body);
        this.#itemCache.add(id, body);
      }
    }
    // Bounded parallelism: a 1,000-element array of blobs should not open 1,000 files at once.
    const parallel = 8;
    for (let start = 0; start < inBlobStore.length; start += parallel) {
      const batch = inBlobStore.slice(start, start + parallel);
      const blobs = await Promise.all(batch.map((id) => this.blobStore.get(id)));
      for (const [index, id] of batch.entries()) result.set(id, blobs[index]!);
    }
    return result;
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id;
    if (threadId === undefined || threadId === null) return undefined;
    await this.setup();
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    const checkpointId = getCheckpointId(config) || undefined;
    const row = await this.rows.getCheckpoint(String(threadId), checkpointNs, checkpointId);
    return row && this.#toTuple(row);
  }

  async *list(
    config: RunnableConfig,
    options?: CheckpointListOptions,
  ): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options ?? {};
    let limit = options?.limit;
    const threadId = config.configurable?.thread_id;
    await this.setup();
    const filtering = filter !== undefined && Object.keys(filter).length > 0;
    const rows = await this.rows.listCheckpoints({
      threadId: threadId === undefined || threadId === null ? undefined : String(threadId),
      checkpointNs: config.configurable?.checkpoint_ns,
      checkpointId: config.configurable?.checkpoint_id || undefined,
      beforeCheckpointId: before?.configurable?.checkpoint_id || undefined,
      // Scalars are compared in the database; every returned row is still checked below, with
      // MemorySaver's semantics (===), which an object value never meets.
      metadataEquals: Object.entries(filter ?? {}).flatMap(([key, value]) =>
        isJsonScalar(value) ? [{ key, json: JSON.stringify(value) }] : [],
      ),
      limit: filtering ? undefined : limit,
    });
    // Pages of rows share one query for their pending writes; a page is read only when the
    // caller iterates that far.
    for (let start = 0; start < rows.length; start += listPageRows) {
      const page: { row: CheckpointRow; metadata: CheckpointMetadata }[] = [];
      for (const row of rows.slice(start, start + listPageRows)) {
        if (limit !== undefined && page.length >= limit) break;
        const metadata = (await this.serde.loadsTyped(
          row.metadataType,
          row.metadata,
        )) as CheckpointMetadata;
        if (
          filtering &&
          !Object.entries(filter).every(
            ([key, value]) => (metadata as Record<string, unknown> | undefined)?.[key] === value,
          )
        )
          continue;
        page.push({ row, metadata });
      }
      const writes = await this.#writesOfRows(page.map(({ row }) => row));
      for (const { row, metadata } of page)
        yield await this.#toTuple(row, metadata, writes.get(row) ?? []);
      if (limit !== undefined) {
        limit -= page.length;
        if (limit <= 0) return;
      }
    }
  }

  /** Pending write rows of these checkpoint rows, one query per thread and namespace among them. */
  async #writesOfRows(rows: readonly CheckpointRow[]): Promise<Map<CheckpointRow, WriteRow[]>> {
    const groups = new Map<string, CheckpointRow[]>();
    for (const row of rows) {
      const key = JSON.stringify([row.threadId, row.checkpointNs]);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [row]);
      else group.push(row);
    }
    const result = new Map<CheckpointRow, WriteRow[]>();
    for (const group of groups.values()) {
      const { threadId, checkpointNs } = group[0]!;
      const byId = await this.rows.getWrites(
        threadId,
        checkpointNs,
        group.map((row) => row.checkpointId),
      );
      for (const row of group) result.set(row, byId.get(row.checkpointId) ?? []);
    }
    return result;
  }

  async #toTuple(
    row: CheckpointRow,
    knownMetadata?: CheckpointMetadata,
    knownWrites?: WriteRow[],
  ): Promise<CheckpointTuple> {
    const [skeleton, metadata, channelValues, pendingWrites] = await Promise.all([
      this.serde.loadsTyped(row.checkpointType, row.checkpoint) as Promise<
        Omit<Checkpoint, "channel_values">
      >,
      knownMetadata ??
        (this.serde.loadsTyped(row.metadataType, row.metadata) as Promise<CheckpointMetadata>),
      this.#decodeChannels(row),
      knownWrites === undefined
        ? this.#pendingWrites(row.threadId, row.checkpointNs, row.checkpointId)
        : this.#decodeWrites(knownWrites, row.threadId, row.checkpointId),
    ]);
    const checkpoint = { ...skeleton, channel_values: channelValues } as Checkpoint;
    if (checkpoint.v < 4 && row.parentCheckpointId !== undefined) {
      await this.#migratePendingSends(
        checkpoint,
        row.threadId,
        row.checkpointNs,
        row.parentCheckpointId,
      );
    }
    const tuple: CheckpointTuple = {
      config: {
        configurable: {
          thread_id: row.threadId,
          checkpoint_ns: row.checkpointNs,
          checkpoint_id: row.checkpointId,
        },
      },
      checkpoint,
      metadata,
      pendingWrites,
    };
    if (row.parentCheckpointId !== undefined) {
      tuple.parentConfig = {
        configurable: {
          thread_id: row.threadId,
          checkpoint_ns: row.checkpointNs,
          checkpoint_id: row.parentCheckpointId,
        },
      };
    }
    return tuple;
  }

  async #decodeChannels(row: CheckpointRow): Promise<Record<string, unknown>> {
    const refs = channelRefsOfRow(row);
    const values: Record<string, unknown> = {};
    for (const [channel, { r }] of Object.entries(refs))
      values[channel] = await this.#codec.decode(
        r,
        this.#readerFor(
          `channel ${JSON.stringify(channel)} of checkpoint ${row.checkpointId}, thread ${row.threadId}`,
        ),
      );
    return values;
  }

  async #pendingWrites(
    threadId: string,
    checkpointNs: string,
    checkpointId: string,
  ): Promise<CheckpointPendingWrite[]> {
    const rows = await writesOf(this.rows, threadId, checkpointNs, checkpointId);
    return this.#decodeWrites(rows, threadId, checkpointId);
  }

  #decodeWrites(
    unsorted: readonly WriteRow[],
    threadId: string,
    checkpointId: string,
  ): Promise<CheckpointPendingWrite[]> {
    return Promise.all(
      sortWrites(unsorted).map(
        async (row): Promise<CheckpointPendingWrite> => [
          row.taskId,
          row.channel,
          await this.#codec.decode(
            parseValueRef(row.valueRef, `write ${row.taskId}/${row.idx}`),
            this.#readerFor(
              `write ${row.taskId}/${row.idx} of checkpoint ${checkpointId}, thread ${threadId}`,
            ),
          ),
        ],
      ),
    );
  }

  /** Checkpoints before v4 kept pending sends as writes to TASKS on the parent; surface them as a channel. */
  async #migratePendingSends(
    checkpoint: Checkpoint,
    threadId: string,
    checkpointNs: string,
    parentId: string,
  ) {
    const parentWrites = await this.#pendingWrites(threadId, checkpointNs, parentId);
    checkpoint.channel_values[TASKS] = parentWrites
      .filter(([, channel]) => channel === TASKS)
      .map(([, , value]) => value);
    const versions = Object.values(checkpoint.channel_versions);
    checkpoint.channel_versions[TASKS] =
      versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
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
      const committed = await this.#commit(
        threadId,
        encodes,
        rowPayloads.toWrite,
        inheritedRootIds,
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
    const remembered = this.#recentRefs.get(key);
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
    if (this.#recentRefs.size > 1024) {
      const oldest = this.#recentRefs.keys().next().value;
      if (oldest !== undefined) this.#recentRefs.delete(oldest);
    }
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
    const committed = await this.#commit(threadId, encodes, [], [], (tx) =>
      tx.insertWrites(threadId, checkpointNs, checkpointId, rows),
    );
    if (checkpointPutChannel.hasSubscribers) {
      const rowBytes = rows.reduce((total, row) => total + row.valueRef.length, 0);
      checkpointPutChannel.publish(putEvent("putWrites", startedMs, rowBytes, committed));
    }
  }

  /**
   * Everything is planned first, with no side effect; then the serializer's blobs and the saver's
   * large items are written durably; then one transaction inserts items and the row. A refused
   * put writes nothing, and a crash at any point leaves the old state or the new one, plus at
   * worst unreferenced blobs that `gc()` reclaims.
   *
   * Inside the transaction, every blob this put wrote is checked to still exist: lifecycle
   * operations delete blobs only inside an exclusive transaction and only when no row names them,
   * so a blob seen here cannot vanish before this commit, and one a concurrent gc deleted just
   * before is written again (its content is still in hand).
   *
   * Commits of one thread take turns in this process. LangGraph puts a task's writes and the
   * next checkpoint concurrently, and both hold the step's new values: in turns, the second finds
   * the first's items stored and skips their blobs, instead of both writing (and then verifying)
   * the same 200 KB blob at once, and both extending the same tables (Postgres then grows a
   * table by 20 pages per waiting backend).
   */
  #commit(
    threadId: string,
    encodes: EncodedValue[],
    rowPayloads: PreparedPayload[],
    inheritedRootIds: string[],
    writeRow: (tx: RowWriteTransaction) => Promise<void>,
  ): Promise<CommitOutcome> {
    return this.#threadCommits.run(threadId, () =>
      this.#commitInTurn(encodes, rowPayloads, inheritedRootIds, writeRow),
    );
  }

  async #commitInTurn(
    encodes: EncodedValue[],
    rowPayloads: PreparedPayload[],
    inheritedRootIds: string[],
    writeRow: (tx: RowWriteTransaction) => Promise<void>,
  ): Promise<CommitOutcome> {
    const items = new Map<string, NewItem>();
    const reused = new Set<string>(inheritedRootIds);
    const serdePayloads = [...rowPayloads];
    for (const encoded of encodes) {
      for (const item of encoded.items) items.set(item.id, item);
      for (const id of encoded.reusedItemIds) reused.add(id);
      serdePayloads.push(...encoded.toWrite);
    }
    for (const id of items.keys()) reused.delete(id);
    const serdeBlobIds = new Set(serdePayloads.flatMap(blobClosureOf));
    const blobChildren = new Map<string, readonly string[]>();
    for (const payload of serdePayloads)
      for (const [parent, children] of payload.blobChildren) blobChildren.set(parent, children);
    const writeSerdeBlobs = () => this.#stagedSerde!.writeBlobs(serdePayloads);
    if (serdeBlobIds.size > 0) await writeSerdeBlobs();
    const blobItems = [...items.values()].filter((item) => item.inBlobStore);
    if (blobItems.length > 0) {
      const known = await this.rows.existingItemIds(blobItems.map((item) => item.id));
      for (const item of blobItems)
        if (!known.has(item.id)) await putOutsideLock(this.blobStore, item.bytes);
    }
    let inserted: NewItem[] = [];
    await this.rows.write(async (tx) => {
      inserted = await tx.insertItems([...items.values()]);
      for (const item of inserted) {
        if (item.inBlobStore && !(await this.blobStore.has(item.id)))
          await this.blobStore.put(item.bytes);
      }
      for (const id of serdeBlobIds) {
        if (await this.blobStore.has(id)) continue;
        await writeSerdeBlobs();
        break;
      }
      if (reused.size > 0 && (await tx.missingItemIds([...reused])).length > 0)
        throw new StaleEncodeError();
      if (blobChildren.size > 0) await tx.insertBlobChildren(blobChildren);
      await writeRow(tx);
    });
    for (const item of items.values())
      if (!item.inBlobStore) this.#itemCache.add(item.id, item.bytes);
    return { plannedItems: items.size, insertedItems: inserted };
  }

  /**
   * Reads only what the walk needs (core/delta-history.ts): the ancestors' rows, their writes to
   * the requested channels and the one seed value per channel, instead of decoding every channel
   * of every ancestor; past a pruned ancestor, the history the prune retained.
   */
  override async getDeltaChannelHistory(options: { config: RunnableConfig; channels: string[] }) {
    const { config, channels } = options;
    if (channels.length === 0) return {};
    const threadId = config.configurable?.thread_id;
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    await this.setup();
    const target =
      threadId === undefined || threadId === null
        ? undefined
        : await this.rows.getCheckpoint(
            String(threadId),
            checkpointNs,
            getCheckpointId(config) || undefined,
          );
    const histories =
      target === undefined
        ? new Map<string, RetainedHistory>()
        : await deltaHistoryRefs(this.rows, target, channels);
    const result: Record<string, { seed?: unknown; writes: CheckpointPendingWrite[] }> = {};
    for (const channel of channels) {
      const history = histories.get(channel) ?? { seedRef: undefined, writes: [] };
      const where = `history of channel ${JSON.stringify(channel)} at checkpoint ${target?.checkpointId}, thread ${threadId}`;
      const entry: { seed?: unknown; writes: CheckpointPendingWrite[] } = { writes: [] };
      for (const write of history.writes) {
        entry.writes.push([
          write.taskId,
          channel,
          await this.#codec.decode(parseValueRef(write.valueRef, where), this.#readerFor(where)),
        ]);
      }
      if (history.seedRef !== undefined)
        entry.seed = await this.#codec.decode(
          parseValueRef(history.seedRef, where),
          this.#readerFor(where),
        );
      result[channel] = entry;
    }
    return result as never;
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
    const nowMs = Date.now();
    const counts = await this.rows.write(
      async (tx) => {
        let deletedCheckpoints = 0;
        let checkpointsWithRetainedHistory = 0;
        for (const threadId of threadIds) {
          const plan = planPrune(await tx.checkpointPlaces(threadId), rule, nowMs);
          deletedCheckpoints += plan.deleted.length;
          if (dryRun || plan.deleted.length === 0) continue;
          // Every history is computed before anything is deleted, from the thread as it is, and
          // kept under the deleted parent: children of one parent share it.
          const retained = new Map<
            string,
            { checkpointNs: string; histories: Map<string, RetainedHistory> }
          >();
          for (const place of plan.cutPoints) {
            const row = await this.rows.getCheckpoint(
              threadId,
              place.checkpointNs,
              place.checkpointId,
            );
            if (row === undefined || row.parentCheckpointId === undefined) continue;
            const histories = await this.#historiesToRetain(row);
            if (histories.size === 0) continue;
            checkpointsWithRetainedHistory += 1;
            const key = `${row.checkpointNs}\0${row.parentCheckpointId}`;
            const merged = retained.get(key)?.histories ?? new Map<string, RetainedHistory>();
            for (const [channel, history] of histories) merged.set(channel, history);
            retained.set(key, { checkpointNs: row.checkpointNs, histories: merged });
          }
          for (const [key, { checkpointNs, histories }] of retained) {
            const parentId = key.slice(checkpointNs.length + 1);
            await tx.putRetainedHistory(threadId, checkpointNs, parentId, histories);
          }
          await tx.deleteCheckpoints(threadId, plan.deleted);
          await tx.dropUnusedRetained(threadId);
        }
        return { deletedCheckpoints, checkpointsWithRetainedHistory };
      },
      { exclusive: true },
    );
    const gc =
      dryRun || counts.deletedCheckpoints === 0
        ? { deletedItems: 0, deletedBlobs: 0 }
        : await this.#collect(this.#orphanGraceMs);
    return { ...counts, gc };
  }

  /**
   * The channels LangGraph may rebuild by walking up from `row`: those with a version but no
   * stored value (a DeltaChannel between snapshots, and ephemeral channels, whose walk ends at
   * the nearest ancestor that stored them). Channels without history past `row` are left out.
   */
  async #historiesToRetain(row: CheckpointRow): Promise<Map<string, RetainedHistory>> {
    const skeleton = (await this.serde.loadsTyped(row.checkpointType, row.checkpoint)) as {
      channel_versions?: Record<string, unknown>;
    };
    const stored = channelRefsOfRow(row);
    const channels = Object.keys(skeleton.channel_versions ?? {}).filter(
      (channel) => !(channel in stored),
    );
    const histories = new Map<string, RetainedHistory>();
    if (channels.length === 0) return histories;
    for (const [channel, history] of await deltaHistoryRefs(this.rows, row, channels)) {
      if (history.seedRef !== undefined || history.writes.length > 0)
        histories.set(channel, history);
    }
    return histories;
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

/**
 * Outside the write lock, a gc in another process may delete an orphan blob (same content,
 * written by someone who has not committed yet) while the store is verifying it, which a store
 * can report as a failed write. The content is still in hand, so trying again is always right;
 * the in-transaction check in #commit is what guarantees the blob exists at commit.
 */
async function putOutsideLock(blobStore: BlobStore, bytes: Uint8Array): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await blobStore.put(bytes);
      return;
    } catch (error) {
      if (attempt >= 3 || (error as { code?: string }).code !== SerdeErrorCode.blobWriteFailed)
        throw error;
    }
  }
}

function heldVersionKey(channel: string, version: ChannelVersion): string {
  return `${channel}\0${typeof version}\0${version}`;
}
