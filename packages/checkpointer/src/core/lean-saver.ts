import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  getCheckpointId,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  WRITES_IDX_MAP,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import { type BlobStore, RedactingSerializer, SerdeErrorCode } from "@leangraph/serde";
import { findUnstorable } from "../codec/find-unstorable.js";
import { sha256Hex } from "../codec/tree-node.js";
import {
  defaultValueCodecOptions,
  type EncodedValue,
  type ItemReader,
  type NewItem,
  parseValueRef,
  ValueCodec,
  type ValueCodecOptions,
  type ValueRef,
} from "../codec/value-codec.js";
import {
  configInvalidError,
  itemCorruptError,
  itemMissingError,
  rowCorruptError,
  unstorableError,
} from "../errors.js";
import { collectGarbage, type GcReport } from "./mark-sweep.js";
import { KeyedMutex } from "./mutex.js";
import type { CheckpointRow, RowStore, RowWriteTransaction, WriteRow } from "./row-store.js";

type Version = string | number;
type ChannelRefs = Record<string, { v: Version; r: ValueRef }>;

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
  serde?: SerializerProtocol | undefined;
  /** Where items of at least `codec.blobMinBytes` go. */
  blobStore: BlobStore;
  codec?: Partial<ValueCodecOptions> | undefined;
  /**
   * deleteThread/prune delete blobs without an item row (the serializer's) only when older than
   * this: far longer than any put takes from serializing to committing.
   * @default 60000
   */
  orphanGraceMs?: number | undefined;
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

function sortWrites(rows: WriteRow[]): WriteRow[] {
  return rows
    .map((row) => ({ row, key: writesSortKey(row.taskPath, row.taskId, row.idx) }))
    .sort((a, b) => compareWritesSortKeys(a.key, b.key))
    .map(({ row }) => row);
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
  /** Whether the serde writes blobs while serializing (see #assertStorable). */
  readonly #serdeWritesBlobs: boolean;
  /** Objects #assertStorable already walked (weak: it never keeps state alive). */
  readonly #storableObjects = new WeakSet<object>();
  /** Write commits of one thread run one at a time (see #commit). */
  readonly #threadCommits = new KeyedMutex();
  /** Channel refs of recently written checkpoints, by thread/namespace/id (see #parentRefs). */
  readonly #recentRefs = new Map<string, ChannelRefs>();

  protected constructor(rows: RowStore, options: LeanSaverOptions) {
    super(options.serde);
    this.rows = rows;
    this.blobStore = options.blobStore;
    const codecOptions: ValueCodecOptions = {
      ...defaultValueCodecOptions,
      ...options.codec,
      tree: { ...defaultValueCodecOptions.tree, ...options.codec?.tree },
    };
    this.#codec = new ValueCodec(this.serde, codecOptions);
    this.#orphanGraceMs = options.orphanGraceMs ?? 60_000;
    this.#serdeWritesBlobs = this.serde instanceof RedactingSerializer;
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
    const bodies = await this.rows.itemBodies(ids);
    const result = new Map<string, Uint8Array>();
    const inBlobStore: string[] = [];
    for (const id of ids) {
      const body = bodies.get(id);
      if (body === undefined) throw itemMissingError(id);
      if (body === null) inBlobStore.push(id);
      else if (sha256Hex(body) !== id) throw itemCorruptError(id, where);
      else result.set(id, body);
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
    const rows = await this.rows.listCheckpoints({
      threadId: threadId === undefined || threadId === null ? undefined : String(threadId),
      checkpointNs: config.configurable?.checkpoint_ns,
      checkpointId: config.configurable?.checkpoint_id || undefined,
      beforeCheckpointId: before?.configurable?.checkpoint_id || undefined,
      limit: filter && Object.keys(filter).length > 0 ? undefined : limit,
    });
    for (const row of rows) {
      if (limit !== undefined && limit <= 0) return;
      if (filter && Object.keys(filter).length > 0) {
        const metadata = (await this.serde.loadsTyped(row.metadataType, row.metadata)) as Record<
          string,
          unknown
        >;
        if (!Object.entries(filter).every(([key, value]) => metadata?.[key] === value)) continue;
      }
      if (limit !== undefined) limit -= 1;
      yield await this.#toTuple(row);
    }
  }

  async #toTuple(row: CheckpointRow): Promise<CheckpointTuple> {
    const [skeleton, metadata, channelValues, pendingWrites] = await Promise.all([
      this.serde.loadsTyped(row.checkpointType, row.checkpoint) as Promise<
        Omit<Checkpoint, "channel_values">
      >,
      this.serde.loadsTyped(row.metadataType, row.metadata) as Promise<CheckpointMetadata>,
      this.#decodeChannels(row),
      this.#pendingWrites(row.threadId, row.checkpointNs, row.checkpointId),
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

  #channelRefs(row: CheckpointRow): ChannelRefs {
    try {
      return JSON.parse(row.channelRefs) as ChannelRefs;
    } catch (error) {
      throw rowCorruptError(`channel refs of checkpoint ${row.checkpointId}`, error);
    }
  }

  async #decodeChannels(row: CheckpointRow): Promise<Record<string, unknown>> {
    const refs = this.#channelRefs(row);
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
    const rows = sortWrites(await this.rows.getWrites(threadId, checkpointNs, checkpointId));
    return Promise.all(
      rows.map(
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
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    const parentId: string | undefined = config.configurable?.checkpoint_id || undefined;
    const { channel_values: channelValues, ...skeleton } = checkpoint;
    const [[checkpointType, checkpointBytes], [metadataType, metadataBytes], parentRefs] =
      await Promise.all([
        this.serde.dumpsTyped(skeleton),
        this.serde.dumpsTyped(metadata),
        parentId === undefined
          ? ({} as ChannelRefs)
          : this.#parentRefs(threadId, checkpointNs, parentId),
      ]);

    const attempt = async (inherit: boolean) => {
      const refs: ChannelRefs = {};
      const encodes: EncodedValue[] = [];
      const inheritedRootIds: string[] = [];
      const toEncode: [channel: string, value: unknown, version: Version][] = [];
      for (const [channel, value] of Object.entries(channelValues ?? {})) {
        if (value === undefined) continue;
        const version = checkpoint.channel_versions[channel] as Version;
        const parentRef = parentRefs[channel];
        if (
          !(channel in newVersions) &&
          inherit &&
          parentRef !== undefined &&
          parentRef.v === version
        ) {
          refs[channel] = parentRef;
          inheritedRootIds.push(...rootIds(parentRef.r));
        } else if (channel in newVersions || parentId !== undefined) {
          // Not in newVersions yet absent from the parent (pruned, or a caller that skips
          // versions): store it rather than lose it. Without a parent, mirror the stock savers:
          // only newVersions are stored.
          toEncode.push([channel, value, version]);
        }
      }
      for (const [channel, value] of toEncode) {
        this.#assertStorable(
          value,
          channel,
          `channel ${JSON.stringify(channel)} of checkpoint ${checkpoint.id}, thread ${threadId}`,
        );
      }
      for (const [channel, value, version] of toEncode) {
        const encoded = await this.#codec.encode(
          value,
          inherit ? `${threadId}\0${checkpointNs}\0${channel}` : undefined,
        );
        encodes.push(encoded);
        refs[channel] = { v: version, r: encoded.ref };
      }
      const row: CheckpointRow = {
        threadId,
        checkpointNs,
        checkpointId: checkpoint.id,
        parentCheckpointId: parentId,
        checkpointType,
        checkpoint: toBytes(checkpointBytes),
        metadataType,
        metadata: toBytes(metadataBytes),
        channelRefs: JSON.stringify(refs),
      };
      await this.#commit(threadId, encodes, inheritedRootIds, (tx) => tx.upsertCheckpoint(row));
      this.#rememberRefs(threadId, checkpointNs, checkpoint.id, refs);
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
   * A RedactingSerializer checks a value fully before writing its blobs, but the codec calls it
   * per channel and per array element, so a function in a later element would be found after an
   * earlier element's blob was written, leaving an orphan behind a failed put. Every value of a
   * put is therefore checked before the first serializer call. Serializers that write nothing
   * while serializing (JsonPlusSerializer) keep their own behaviour and skip the walk.
   *
   * Objects that passed once are not walked again (#storableObjects): a chat state re-puts every
   * earlier message each step, and walking them all (toJSON included) doubled the cost of a put.
   * The serializer still checks everything, so an object mutated in place to hold a function is
   * still refused; at worst that put leaves an orphan blob for gc().
   */
  #assertStorable(value: unknown, root: string, where: string): void {
    if (!this.#serdeWritesBlobs) return;
    const elements = Array.isArray(value) ? value : [value];
    for (let index = 0; index < elements.length; index += 1) {
      const element: unknown = elements[index];
      const isObject = typeof element === "object" && element !== null;
      if (isObject && this.#storableObjects.has(element)) continue;
      if (!isObject && typeof element !== "function" && typeof element !== "symbol") {
        if (typeof element !== "bigint") continue;
      }
      const found = findUnstorable(element, elements === value ? `${root}[${index}]` : root);
      if (found !== undefined) throw unstorableError(where, found.path, found.what);
      if (isObject) this.#storableObjects.add(element);
    }
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
    return row ? this.#channelRefs(row) : {};
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
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    const checkpointId: string | undefined = config.configurable?.checkpoint_id;
    if (!checkpointId) {
      throw configInvalidError(
        "putWrites needs config.configurable.checkpoint_id (the checkpoint the writes belong to).",
      );
    }
    for (const [index, [channel, value]] of writes.entries()) {
      this.#assertStorable(
        value,
        `writes[${index}]`,
        `write ${index} (channel ${JSON.stringify(channel)}) of task ${taskId}, checkpoint ${checkpointId}, thread ${threadId}`,
      );
    }
    const encodes: EncodedValue[] = [];
    const rows: WriteRow[] = [];
    for (const [index, [channel, value]] of writes.entries()) {
      const encoded = await this.#codec.encode(value);
      encodes.push(encoded);
      rows.push({
        taskId,
        idx: (WRITES_IDX_MAP as Record<string, number>)[channel] ?? index,
        channel,
        taskPath: taskPath ?? "",
        valueRef: JSON.stringify(encoded.ref),
      });
    }
    await this.#commit(threadId, encodes, [], (tx) =>
      tx.insertWrites(threadId, checkpointNs, checkpointId, rows),
    );
  }

  /**
   * Blobs first (durable), then one transaction for items + the row. Inside the transaction, a
   * blob item this transaction newly inserts is checked to still exist: lifecycle operations only
   * delete blobs inside an exclusive transaction and only when no item row names them, so a blob
   * seen here cannot vanish before this commit, and one deleted just before is written again.
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
    inheritedRootIds: string[],
    writeRow: (tx: RowWriteTransaction) => Promise<void>,
  ): Promise<void> {
    return this.#threadCommits.run(threadId, () =>
      this.#commitInTurn(encodes, inheritedRootIds, writeRow),
    );
  }

  async #commitInTurn(
    encodes: EncodedValue[],
    inheritedRootIds: string[],
    writeRow: (tx: RowWriteTransaction) => Promise<void>,
  ): Promise<void> {
    const items = new Map<string, NewItem>();
    const reused = new Set<string>(inheritedRootIds);
    for (const encoded of encodes) {
      for (const item of encoded.items) items.set(item.id, item);
      for (const id of encoded.reusedItemIds) reused.add(id);
    }
    for (const id of items.keys()) reused.delete(id);
    const blobItems = [...items.values()].filter((item) => item.inBlobStore);
    if (blobItems.length > 0) {
      const known = await this.rows.existingItemIds(blobItems.map((item) => item.id));
      for (const item of blobItems)
        if (!known.has(item.id)) await putOutsideLock(this.blobStore, item.bytes);
    }
    await this.rows.write(async (tx) => {
      const inserted = await tx.insertItems([...items.values()]);
      for (const item of inserted) {
        if (item.inBlobStore && !(await this.blobStore.has(item.id)))
          await this.blobStore.put(item.bytes);
      }
      if (reused.size > 0 && (await tx.missingItemIds([...reused])).length > 0)
        throw new StaleEncodeError();
      await writeRow(tx);
    });
  }

  /**
   * Reads only what the walk needs: the ancestors' rows, their writes to the requested channels,
   * and the one seed value per channel, instead of decoding every channel of every ancestor.
   */
  override async getDeltaChannelHistory(options: { config: RunnableConfig; channels: string[] }) {
    const { config, channels } = options;
    if (channels.length === 0) return {};
    const threadId = config.configurable?.thread_id;
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    const collected = new Map<string, CheckpointPendingWrite[]>(
      channels.map((channel) => [channel, []]),
    );
    const seeds = new Map<string, unknown>();
    const remaining = new Set(channels);
    const start =
      threadId === undefined
        ? undefined
        : await this.rows.getCheckpoint(
            String(threadId),
            checkpointNs,
            getCheckpointId(config) || undefined,
          );
    let cursor = start?.parentCheckpointId;
    while (cursor !== undefined && remaining.size > 0 && start !== undefined) {
      const row = await this.rows.getCheckpoint(start.threadId, checkpointNs, cursor);
      if (row === undefined) break;
      const writes = sortWrites(
        await this.rows.getWrites(row.threadId, checkpointNs, row.checkpointId),
      );
      for (let index = writes.length - 1; index >= 0; index -= 1) {
        const write = writes[index]!;
        if (!remaining.has(write.channel)) continue;
        const value = await this.#codec.decode(
          parseValueRef(write.valueRef, "write"),
          this.#readerFor(
            `write ${write.taskId}/${write.idx} of checkpoint ${row.checkpointId}, thread ${row.threadId}`,
          ),
        );
        collected.get(write.channel)!.push([write.taskId, write.channel, value]);
      }
      const refs = this.#channelRefs(row);
      for (const channel of [...remaining]) {
        const ref = refs[channel];
        if (ref === undefined) continue;
        seeds.set(
          channel,
          await this.#codec.decode(
            ref.r,
            this.#readerFor(
              `channel ${JSON.stringify(channel)} of checkpoint ${row.checkpointId}, thread ${row.threadId}`,
            ),
          ),
        );
        remaining.delete(channel);
      }
      cursor = row.parentCheckpointId;
    }
    const result: Record<string, { seed?: unknown; writes: CheckpointPendingWrite[] }> = {};
    for (const channel of channels) {
      const entry: { seed?: unknown; writes: CheckpointPendingWrite[] } = {
        writes: collected.get(channel)!.slice().reverse(),
      };
      if (seeds.has(channel)) entry.seed = seeds.get(channel);
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
    await this.rows.write((tx) => tx.deleteThread(threadId), { exclusive: true });
    await this.#collect(this.#orphanGraceMs);
  }

  /** Keeps the newest `keepLast` checkpoints per namespace of each thread; returns how many were deleted. */
  async prune(threadIds: readonly string[], options: { keepLast: number }): Promise<number> {
    if (!Number.isInteger(options.keepLast) || options.keepLast < 0) {
      throw configInvalidError(`prune keepLast must be an integer >= 0; got ${options.keepLast}.`);
    }
    let deleted = 0;
    await this.rows.write(
      async (tx) => {
        for (const threadId of threadIds)
          deleted += await tx.pruneThread(threadId, options.keepLast);
      },
      { exclusive: true },
    );
    await this.#collect(this.#orphanGraceMs);
    return deleted;
  }

  /** Copies every checkpoint and write of a thread; items are shared by content, nothing is duplicated. */
  async copyThread(fromThreadId: string, toThreadId: string): Promise<void> {
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
    return this.#collect(options.graceMs ?? 3_600_000);
  }

  #collect(orphanGraceMs: number): Promise<GcReport> {
    // Remembered encodes may point at items about to be swept; the next put re-checks anyway,
    // but forgetting them here avoids a guaranteed retry.
    this.#codec.forgetReuse();
    this.#recentRefs.clear();
    return collectGarbage(this.rows, this.blobStore, orphanGraceMs);
  }

  async storageStats(): Promise<StorageStats> {
    const rowStats = await this.rows.stats();
    let blobBytes = 0;
    let blobCount = 0;
    for await (const id of this.blobStore.list()) {
      const stat = await this.blobStore.stat(id);
      if (stat === undefined) continue;
      blobCount += 1;
      blobBytes += stat.bytes;
    }
    return { ...rowStats, blobBytes, blobCount };
  }

  async close(): Promise<void> {
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

function rootIds(ref: ValueRef): string[] {
  if ("a" in ref) return [ref.a];
  if ("i" in ref) return [ref.i];
  return [];
}

function toBytes(payload: string | Uint8Array): Uint8Array {
  return typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
}
