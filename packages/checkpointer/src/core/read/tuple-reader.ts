import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  getCheckpointId,
  maxChannelVersion,
  type SerializerProtocol,
  TASKS,
} from "@langchain/langgraph-checkpoint";
import type { ValueCodec } from "../../codec/value-codec.js";
import { parseValueRef } from "../../codec/value-ref.js";
import { channelRefsOfRow } from "../channel-refs.js";
import {
  type CheckpointRow,
  isJsonScalar,
  type RetainedHistory,
  type RowStore,
  sortWrites,
  type WriteRow,
  writesOf,
} from "../row-store.js";
import { deltaHistoryRefs } from "./delta-history.js";
import type { VerifiedItemReader } from "./item-reader.js";

/** Rows of a `list()` read per page: their pending writes come in one query. */
const listPageRows = 100;

/**
 * The read path of the saver: checkpoint rows back to tuples (skeleton, metadata, channel values
 * decoded through the codec, pending writes), a `list()` page by page, and DeltaChannel
 * histories. Every method expects the saver's setup to have run.
 */
export class TupleReader {
  constructor(
    private readonly rows: RowStore,
    /** Loads the checkpoint skeleton and metadata stored in the row itself. */
    private readonly serde: SerializerProtocol,
    private readonly codec: ValueCodec,
    /** Item bodies for the codec, hash-checked (core/read/item-reader.ts). */
    private readonly items: VerifiedItemReader,
    /** The saver's getNextVersion: the version of a pending-sends channel a pre-v4 checkpoint lacks. */
    private readonly getNextVersion: (current: undefined) => ChannelVersions[string],
  ) {}

  /** The tuple of the checkpoint `config` names (its newest when it names none); setup has run. */
  async getTuple(threadId: string, config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
    const checkpointId = getCheckpointId(config) || undefined;
    const row = await this.rows.getCheckpoint(threadId, checkpointNs, checkpointId);
    return row && this.#toTuple(row);
  }

  /** `list()` after setup: rows, then their writes a page at a time, then tuples. */
  async *list(
    config: RunnableConfig,
    options?: CheckpointListOptions,
  ): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options ?? {};
    let limit = options?.limit;
    const threadId = config.configurable?.thread_id;
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
      values[channel] = await this.codec.decode(
        r,
        this.items.readerFor(
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
          await this.codec.decode(
            parseValueRef(row.valueRef, `write ${row.taskId}/${row.idx}`),
            this.items.readerFor(
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

  /**
   * Reads only what the walk needs (core/read/delta-history.ts): the ancestors' rows, their writes to
   * the requested channels and the one seed value per channel, instead of decoding every channel
   * of every ancestor; past a pruned ancestor, the history the prune retained.
   */
  /** `getDeltaChannelHistory()` after setup, for a non-empty list of channels. */
  async deltaChannelHistory(options: {
    config: RunnableConfig;
    channels: string[];
  }): Promise<Record<string, { seed?: unknown; writes: CheckpointPendingWrite[] }>> {
    const { config, channels } = options;
    const threadId = config.configurable?.thread_id;
    const checkpointNs: string = config.configurable?.checkpoint_ns ?? "";
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
          await this.codec.decode(
            parseValueRef(write.valueRef, where),
            this.items.readerFor(where),
          ),
        ]);
      }
      if (history.seedRef !== undefined)
        entry.seed = await this.codec.decode(
          parseValueRef(history.seedRef, where),
          this.items.readerFor(where),
        );
      result[channel] = entry;
    }
    return result;
  }
}
