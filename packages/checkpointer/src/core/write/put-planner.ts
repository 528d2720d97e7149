import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  type PendingWrite,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import { type LruMap, UnserializableError } from "@leangraph/serde";
import type {
  PayloadPreparer,
  PreparedValue,
  PreparedValues,
} from "../../codec/payload-preparer.js";
import type { EncodedValue, ValueCodec } from "../../codec/value-codec.js";
import { channelRefsJson, rootItemIds } from "../../codec/value-ref.js";
import { checkpointPutChannel, putEvent } from "../../diagnostics.js";
import { configInvalidError, unstorableError } from "../../errors.js";
import { type ChannelRefs, type ChannelVersion, channelRefsOfRow } from "../channel-refs.js";
import { createdAtMsOf } from "../migration-context.js";
import type { CheckpointRow, RowStore, WriteRow } from "../row-store.js";
import { type PutCommitter, StaleEncodeError } from "./commit.js";

/**
 * Plans a put or putWrites: which channels are encoded and which inherit the parent's ref, every
 * value encoded (a value the serializer cannot store is refused, naming where) and the row built,
 * all before anything is written; then hands the plan to the commit protocol (./commit.ts).
 */
export class PutPlanner {
  constructor(
    private readonly rows: RowStore,
    private readonly codec: ValueCodec,
    /** Serializes the checkpoint skeleton and metadata (stored in the row itself). */
    private readonly rowPayloads: PayloadPreparer,
    /** Channel refs of recently written checkpoints, by thread/namespace/id (see #parentRefs); gc clears it. */
    private readonly recentRefs: LruMap<string, ChannelRefs>,
    /** The commit protocol of every put (./commit.ts). */
    private readonly committer: PutCommitter,
  ) {}

  /** `put()` once the thread id is known and setup has run; `startedMs` times it for diagnostics. */
  async put(
    threadId: string,
    startedMs: number,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
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
      const committed = await this.committer.commit(
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
      this.codec.forgetReuse();
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
   * written, see ./commit.ts); one the serializer cannot store is refused naming `where` and the
   * path from `root`, as in `files[2] is a function`.
   */
  async #encodeOrExplain(
    value: unknown,
    reuseKey: string | undefined,
    root: string,
    where: string,
  ): Promise<EncodedValue> {
    try {
      return await this.codec.encode(value, reuseKey);
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
      return await this.rowPayloads.prepare(values, false);
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
    const remembered = this.recentRefs.peek(key);
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
    this.recentRefs.set(`${threadId}\0${checkpointNs}\0${checkpointId}`, refs);
  }

  /** `putWrites()` once the thread id is known and setup has run. */
  async putWrites(
    threadId: string,
    startedMs: number,
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
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
    const committed = await this.committer.commit(
      threadId,
      { encodes, rowPayloads: [], inheritedRootIds: [] },
      (tx) => tx.insertWrites(threadId, checkpointNs, checkpointId, rows),
    );
    if (checkpointPutChannel.hasSubscribers) {
      const rowBytes = rows.reduce((total, row) => total + row.valueRef.length, 0);
      checkpointPutChannel.publish(putEvent("putWrites", startedMs, rowBytes, committed));
    }
  }
}

function heldVersionKey(channel: string, version: ChannelVersion): string {
  return `${channel}\0${typeof version}\0${version}`;
}
