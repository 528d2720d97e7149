import {
  type BodyLayer,
  createEncryptionLayer,
  isSealed,
  type KeyRing,
  LeangraphError,
  openEnvelope,
  type SealPlace,
  SerdeErrorCode,
  sealEnvelope,
  sealedKeyId,
} from "@leangraph/serde";
import {
  itemRef,
  parseChannelRefs,
  parseValueRef,
  rootItemIds,
  type ValueRef,
} from "../codec/value-ref.js";
import { configInvalidError } from "../errors.js";
import type {
  CheckpointRow,
  LiveRoots,
  RetainedHistory,
  RowStore,
  RowWriteTransaction,
  WriteRow,
} from "./row-store.js";

/**
 * Encryption at rest of everything the rows hold that is state, as a layer over any RowStore
 * (the SQLite and Postgres stores stay unaware of it). Each payload is sealed (AES-256-GCM, see
 * @leangraph/serde's envelope) with associated data naming its place, so a payload copied or
 * swapped to another thread, checkpoint, write or column fails to open with a coded error:
 * - checkpoint rows: `checkpoint`, `metadata` and `channel_refs` (refs may hold tiny values
 *   inline), bound to thread, namespace, checkpoint id and column;
 * - pending writes: `value_ref`, bound to thread, namespace, checkpoint, task id and index;
 * - retained history: `value_ref`, bound to thread, namespace, checkpoint, channel and seq;
 * - item bodies kept in the database (values and tree nodes), bound to their content id.
 * What stays readable: ids (thread, checkpoint, task, item, blob ids), channel names, type tags,
 * sizes. Reachability needs the item ids a ref starts at without a key-bound place to open it
 * with, so a sealed ref carries those root ids beside its envelope (and binds them into it).
 *
 * Fails closed: with encryption on, a payload without an envelope is refused
 * (ERR_LG_ENCRYPTION_NOT_ENCRYPTED), never read as plaintext; `leangraph rekey` is the explicit
 * step that moves a plaintext database to encryption.
 */
export function encryptRowStore(
  rows: RowStore,
  ring: () => Promise<KeyRing>,
  options: EncryptedRowsOptions = {},
): RowStore {
  const bodies = createEncryptionLayer(() => ring());
  const adoptPlaintext = options.adoptPlaintext ?? false;
  const reader = async (): Promise<Reader> => ({ ring: await ring(), adoptPlaintext, bodies });
  return {
    ...forwardingRowStore(rows),
    async itemBodies(ids) {
      const stored = await rows.itemBodies(ids);
      return openBodies(await reader(), stored);
    },
    async getCheckpoint(threadId, checkpointNs, checkpointId) {
      const row = await rows.getCheckpoint(threadId, checkpointNs, checkpointId);
      return row === undefined ? undefined : openCheckpointRow(await reader(), row);
    },
    async listCheckpoints(query) {
      // A metadata filter in SQL cannot see through ciphertext (and Postgres' would try to read
      // it as UTF-8): every row goes back and the saver's own check, MemorySaver's ===, filters.
      const filtering = query.metadataEquals !== undefined && query.metadataEquals.length > 0;
      const found = await rows.listCheckpoints(
        filtering ? { ...query, metadataEquals: undefined } : query,
      );
      const keys = await reader();
      return found.map((row) => openCheckpointRow(keys, row));
    },
    async getWrites(threadId, checkpointNs, checkpointIds) {
      const found = await rows.getWrites(threadId, checkpointNs, checkpointIds);
      const keys = await reader();
      const opened = new Map<string, WriteRow[]>();
      for (const [checkpointId, writes] of found) {
        const place = { threadId, checkpointNs, checkpointId };
        opened.set(
          checkpointId,
          writes.map((write) => ({
            ...write,
            valueRef: openValueRef(keys, write.valueRef, writePlace(place, write)),
          })),
        );
      }
      return opened;
    },
    async retainedHistory(threadId, checkpointNs, checkpointId, channels) {
      const found = await rows.retainedHistory(threadId, checkpointNs, checkpointId, channels);
      const keys = await reader();
      const opened = mapRetainedRefs(found, { threadId, checkpointNs, checkpointId }, (ref, at) =>
        openValueRef(keys, ref, at),
      );
      return opened;
    },
    async retainedRefs(threadId) {
      const found = await rows.retainedRefs(threadId);
      const keys = await reader();
      return found.map((ref) => ({
        ...ref,
        valueRef: openValueRef(keys, ref.valueRef, retainedPlace({ threadId, ...ref })),
      }));
    },
    async itemMeta(ids) {
      return openItemMeta(await reader(), await rows.itemMeta(ids));
    },
    liveRoots: async () => liveRootsOf(await rows.liveRoots()),
    write(work, options) {
      return rows.write(
        async (tx) => work(encryptTransaction(tx, rows, bodies, ring, reader)),
        options,
      );
    },
  };
}

export interface EncryptedRowsOptions {
  /**
   * Read payloads without an envelope as plaintext instead of refusing them: `rekey` only, the
   * explicit step that moves a plaintext database to encryption (and so trusts what it holds).
   * @default false
   */
  adoptPlaintext?: boolean;
}

/** What opening needs: the ring, whether plaintext is adopted (rekey), the body layer. */
interface Reader {
  ring: KeyRing;
  adoptPlaintext: boolean;
  bodies: BodyLayer;
}

/** A payload opened: sealed bytes through the envelope, plaintext only when adopted. */
function openBytes(keys: Reader, stored: Uint8Array, place: SealPlace): Uint8Array {
  if (keys.adoptPlaintext && !isSealed(stored)) return stored;
  return openEnvelope(keys.ring, stored, place);
}

/** Seq of a retained seed value (core/row-store.ts numbers writes from 0, the seed -1). */
const seedSeq = -1;

interface CheckpointPlace {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
}

function checkpointColumnPlace(row: CheckpointPlace, column: string): SealPlace {
  return {
    bound: ["checkpoint", row.threadId, row.checkpointNs, row.checkpointId, column],
    where: `${column} of checkpoint ${row.checkpointId} (thread "${row.threadId}", namespace "${row.checkpointNs}")`,
  };
}

function writePlace(at: CheckpointPlace, write: { taskId: string; idx: number }): SealPlace {
  return {
    bound: ["write", at.threadId, at.checkpointNs, at.checkpointId, write.taskId, write.idx],
    where: `pending write ${write.idx} of task ${write.taskId} at checkpoint ${at.checkpointId} (thread "${at.threadId}", namespace "${at.checkpointNs}")`,
  };
}

function retainedPlace(at: CheckpointPlace & { channel: string; seq: number }): SealPlace {
  return {
    bound: ["retained", at.threadId, at.checkpointNs, at.checkpointId, at.channel, at.seq],
    where: `retained history ${at.seq} of channel "${at.channel}" under checkpoint ${at.checkpointId} (thread "${at.threadId}", namespace "${at.checkpointNs}")`,
  };
}

function sealCheckpointRow(keys: KeyRing, row: CheckpointRow): CheckpointRow {
  return {
    ...row,
    checkpoint: sealEnvelope(keys, row.checkpoint, checkpointColumnPlace(row, "checkpoint")),
    metadata: sealEnvelope(keys, row.metadata, checkpointColumnPlace(row, "metadata")),
    channelRefs: sealRefs(
      keys,
      row.channelRefs,
      channelRefRoots(row.channelRefs),
      checkpointColumnPlace(row, "channel_refs"),
    ),
  };
}

function openCheckpointRow(keys: Reader, row: CheckpointRow): CheckpointRow {
  return {
    ...row,
    checkpoint: openBytes(keys, row.checkpoint, checkpointColumnPlace(row, "checkpoint")),
    metadata: openBytes(keys, row.metadata, checkpointColumnPlace(row, "metadata")),
    channelRefs: openRefs(keys, row.channelRefs, checkpointColumnPlace(row, "channel_refs")),
  };
}

/**
 * A sealed ref column: JSON `{ "sealed": <base64 envelope>, "roots": [item ids] }`. The roots are
 * what the ref starts at (all reachability needs, see liveRootsOf); they are bound into the
 * envelope's associated data, so they cannot be edited apart from it unnoticed at a read.
 */
interface SealedRefs {
  sealed: string;
  roots: string[];
}

function channelRefRoots(json: string): string[] {
  return Object.values(parseChannelRefs(json, "channel refs being encrypted")).flatMap(({ r }) =>
    rootItemIds(r),
  );
}

function valueRefRoots(json: string): string[] {
  return rootItemIds(parseValueRef(json, "a value ref being encrypted"));
}

/** How every sealed ref column starts (JSON.stringify keeps the key order). */
const sealedRefsPrefix = '{"sealed":';

function sealRefs(keys: KeyRing, json: string, roots: string[], place: SealPlace): string {
  const bound = { ...place, bound: [...place.bound, ...roots] };
  const sealed: SealedRefs = {
    sealed: sealEnvelope(keys, Buffer.from(json, "utf8"), bound).toString("base64"),
    roots,
  };
  return JSON.stringify(sealed);
}

/** The key id a sealed ref column was sealed with; undefined for a plaintext column. */
export function sealedRefsKeyId(column: string): string | undefined {
  if (!column.startsWith(sealedRefsPrefix)) return undefined;
  const { sealed } = parseSealedRefs(column, "a ref column");
  return sealedKeyId(Buffer.from(sealed, "base64"));
}

function parseSealedRefs(column: string, where: string): SealedRefs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(column);
  } catch {
    parsed = undefined;
  }
  const candidate = parsed as Partial<SealedRefs> | undefined;
  if (
    typeof candidate?.sealed !== "string" ||
    !Array.isArray(candidate.roots) ||
    !candidate.roots.every((id) => typeof id === "string")
  ) {
    throw new LeangraphError(
      SerdeErrorCode.notEncrypted,
      `Refused ${where}: encryption is on but it holds no encryption envelope (plaintext written before encryption was turned on, or planted).`,
      {
        hint: "A database written without encryption moves to it with `leangraph rekey`; rows written by hand are never accepted.",
      },
    );
  }
  return candidate as SealedRefs;
}

function openRefs(keys: Reader, column: string, place: SealPlace): string {
  if (keys.adoptPlaintext && !column.startsWith(sealedRefsPrefix)) return column;
  const { sealed, roots } = parseSealedRefs(column, place.where);
  const bound = { ...place, bound: [...place.bound, ...roots] };
  return openEnvelope(keys.ring, Buffer.from(sealed, "base64"), bound).toString("utf8");
}

function sealValueRef(keys: KeyRing, json: string, place: SealPlace): string {
  return sealRefs(keys, json, valueRefRoots(json), place);
}

function openValueRef(keys: Reader, column: string, place: SealPlace): string {
  return openRefs(keys, column, place);
}

/**
 * Liveness roots without opening anything: a sealed ref's root ids stand beside its envelope.
 * They go back as one item ref per id, which leads the walk (core/reachability.ts) to the same
 * items: rootItemIds treats tree roots and value items alike, and itemMeta tells nodes apart.
 */
function liveRootsOf(roots: LiveRoots): LiveRoots {
  const valueRefs: string[] = [];
  for (const column of [...roots.channelRefs, ...roots.valueRefs]) {
    for (const id of parseSealedRefs(column, "a ref column read for liveness").roots)
      valueRefs.push(JSON.stringify(itemRef("", id) satisfies ValueRef));
  }
  return { channelRefs: [], valueRefs, blobRefs: roots.blobRefs };
}

async function openBodies(
  keys: Reader,
  stored: Map<string, Uint8Array | null>,
): Promise<Map<string, Uint8Array | null>> {
  const opened = new Map<string, Uint8Array | null>();
  for (const [id, body] of stored)
    opened.set(id, body === null ? null : await openBody(keys, id, body));
  return opened;
}

/**
 * An item body opened. Adopted plaintext is read by `rekey` only, which proves it against its
 * sha256 id before sealing it (so adoption cannot change what an id reads as); everywhere else a
 * body is proven by its envelope, bound to its id (the item reader does not re-hash it).
 */
function openBody(keys: Reader, id: string, body: Uint8Array): Promise<Uint8Array> {
  if (keys.adoptPlaintext && !isSealed(body)) return Promise.resolve(body);
  return keys.bodies.decode(body, { kind: "item", id });
}

async function openItemMeta<M extends { nodeBytes: Uint8Array | undefined }>(
  keys: Reader,
  meta: Map<string, M>,
): Promise<Map<string, M>> {
  const opened = new Map<string, M>();
  for (const [id, item] of meta) {
    opened.set(
      id,
      item.nodeBytes === undefined
        ? item
        : { ...item, nodeBytes: await openBody(keys, id, item.nodeBytes) },
    );
  }
  return opened;
}

function encryptTransaction(
  tx: RowWriteTransaction,
  rows: RowStore,
  bodies: BodyLayer,
  ring: () => Promise<KeyRing>,
  reader: () => Promise<Reader>,
): RowWriteTransaction {
  // A transaction is a plain object (core/storage-errors.ts relies on that too).
  const encrypted: RowWriteTransaction = {
    ...tx,
    async insertItems(items) {
      const sealed = await Promise.all(
        items.map(async (item) =>
          item.inBlobStore
            ? item
            : { ...item, bytes: await bodies.encode(item.bytes, { kind: "item", id: item.id }) },
        ),
      );
      // The caller learns which of *its* items were inserted (ids are the same either way).
      const inserted = new Set((await tx.insertItems(sealed)).map((item) => item.id));
      return items.filter((item) => inserted.has(item.id));
    },
    async upsertCheckpoint(row) {
      await tx.upsertCheckpoint(sealCheckpointRow(await ring(), row));
    },
    async insertWrites(threadId, checkpointNs, checkpointId, writes) {
      const keys = await ring();
      const place = { threadId, checkpointNs, checkpointId };
      await tx.insertWrites(
        threadId,
        checkpointNs,
        checkpointId,
        writes.map((write) => ({
          ...write,
          valueRef: sealValueRef(keys, write.valueRef, writePlace(place, write)),
        })),
      );
    },
    async putRetainedHistory(threadId, checkpointNs, checkpointId, histories) {
      const keys = await ring();
      const sealed = mapRetainedRefs(
        histories,
        { threadId, checkpointNs, checkpointId },
        (ref, at) => sealValueRef(keys, ref, at),
      );
      await tx.putRetainedHistory(threadId, checkpointNs, checkpointId, sealed);
    },
    copyThread: (fromThreadId, toThreadId) =>
      copyThreadSealed(encrypted, tx, rows, fromThreadId, toThreadId, ring),
    liveRoots: async () => liveRootsOf(await tx.liveRoots()),
    itemMeta: async (ids) => openItemMeta(await reader(), await tx.itemMeta(ids)),
  };
  return encrypted;
}

/**
 * A copied row must be bound to its new thread: copied raw, it would (rightly) fail to open
 * there. So the copy reads the source thread's rows through the layer and writes each one
 * sealed again for the target. The source is read outside the transaction; the caller's
 * exclusive transaction keeps writers of it out meanwhile.
 */
async function copyThreadSealed(
  encrypted: RowWriteTransaction,
  tx: RowWriteTransaction,
  rows: RowStore,
  fromThreadId: string,
  toThreadId: string,
  ring: () => Promise<KeyRing>,
): Promise<void> {
  if ((await tx.checkpointPlaces(toThreadId)).length > 0) {
    throw configInvalidError(
      `copyThread target "${toThreadId}" already has checkpoints; delete it first.`,
    );
  }
  const thread = await readThread(encryptRowStore(rows, ring), rows, fromThreadId);
  await writeThread(encrypted, toThreadId, thread);
}

/** Everything a thread's rows hold, opened: what a copy or a rekey writes again. */
export interface OpenedThread {
  checkpoints: CheckpointRow[];
  writes: { checkpointNs: string; checkpointId: string; writes: WriteRow[] }[];
  retained: {
    checkpointNs: string;
    checkpointId: string;
    histories: Map<string, RetainedHistory>;
  }[];
}

/** Reads a thread through `source` (a layer over `raw`, which finds the retained places). */
export async function readThread(
  source: RowStore,
  raw: RowStore,
  threadId: string,
): Promise<OpenedThread> {
  const checkpoints = await source.listCheckpoints({ threadId });
  const writes: OpenedThread["writes"] = [];
  for (const checkpointNs of new Set(checkpoints.map((row) => row.checkpointNs))) {
    const ids = checkpoints
      .filter((row) => row.checkpointNs === checkpointNs)
      .map((row) => row.checkpointId);
    for (const [checkpointId, found] of await source.getWrites(threadId, checkpointNs, ids))
      writes.push({ checkpointNs, checkpointId, writes: found });
  }
  // Retained history hangs under deleted checkpoints: found by its own rows, read per place.
  const places = new Map<
    string,
    { checkpointNs: string; checkpointId: string; channels: Set<string> }
  >();
  for (const ref of await raw.retainedRefs(threadId)) {
    const key = JSON.stringify([ref.checkpointNs, ref.checkpointId]);
    let place = places.get(key);
    if (place === undefined) {
      place = {
        checkpointNs: ref.checkpointNs,
        checkpointId: ref.checkpointId,
        channels: new Set(),
      };
      places.set(key, place);
    }
    place.channels.add(ref.channel);
  }
  const retained: OpenedThread["retained"] = [];
  for (const { checkpointNs, checkpointId, channels } of places.values()) {
    const histories = await source.retainedHistory(threadId, checkpointNs, checkpointId, [
      ...channels,
    ]);
    retained.push({ checkpointNs, checkpointId, histories });
  }
  return { checkpoints, writes, retained };
}

/** Writes a thread's rows through `tx` (the encrypting transaction seals each for `threadId`). */
export async function writeThread(
  tx: RowWriteTransaction,
  threadId: string,
  thread: OpenedThread,
): Promise<void> {
  for (const row of thread.checkpoints) await tx.upsertCheckpoint({ ...row, threadId });
  for (const { checkpointNs, checkpointId, writes } of thread.writes)
    await tx.insertWrites(threadId, checkpointNs, checkpointId, writes);
  for (const { checkpointNs, checkpointId, histories } of thread.retained)
    await tx.putRetainedHistory(threadId, checkpointNs, checkpointId, histories);
}

/**
 * With encryption off, a sealed checkpoint row is refused with a coded error naming its key id,
 * instead of reaching the serializer as garbage: the missing key is the problem, so it is what
 * the error says. Every read of state starts at a checkpoint row, so these two reads suffice.
 */
export function refuseSealedRows(rows: RowStore): RowStore {
  const noKeys = (what: string, keyId: string | undefined) =>
    new LeangraphError(
      SerdeErrorCode.encryptionKeyMissing,
      `Cannot read ${what}: it is encrypted${keyId === undefined ? "" : ` with key "${keyId}"`}, and no encryption keys are configured.`,
      {
        hint: "Set LG_ENCRYPTION_KEYS (or the saver's encryptionKeys) to a ring holding that key.",
      },
    );
  const refuse = (row: CheckpointRow): CheckpointRow => {
    const keyId = sealedKeyId(row.checkpoint);
    if (keyId === undefined) return row;
    throw noKeys(`checkpoint ${row.checkpointId} of thread "${row.threadId}"`, keyId);
  };
  // gc, stats and inspect walk from these roots: a sealed ref they cannot parse must stop them
  // with a coded error, never read as "references nothing" (which would delete live items).
  const refuseSealedRoots = (roots: LiveRoots): LiveRoots => {
    for (const column of [...roots.channelRefs, ...roots.valueRefs])
      if (column.startsWith(sealedRefsPrefix))
        throw noKeys("the refs of an encrypted row", undefined);
    return roots;
  };
  return {
    ...forwardingRowStore(rows),
    liveRoots: async () => refuseSealedRoots(await rows.liveRoots()),
    write: (work, options) =>
      rows.write(
        (tx) => work({ ...tx, liveRoots: async () => refuseSealedRoots(await tx.liveRoots()) }),
        options,
      ),
    async getCheckpoint(threadId, checkpointNs, checkpointId) {
      const row = await rows.getCheckpoint(threadId, checkpointNs, checkpointId);
      return row === undefined ? undefined : refuse(row);
    },
    async listCheckpoints(query) {
      return (await rows.listCheckpoints(query)).map(refuse);
    },
  };
}

/**
 * Every method of `rows`, called on it: the base a layer overrides some of. Listed one by one
 * because a row store is a class instance, whose methods (and private fields) a spread misses.
 */
function forwardingRowStore(rows: RowStore): RowStore {
  return {
    migrate: (context) => rows.migrate(context),
    itemBodies: (ids) => rows.itemBodies(ids),
    getCheckpoint: (threadId, checkpointNs, checkpointId) =>
      rows.getCheckpoint(threadId, checkpointNs, checkpointId),
    listCheckpoints: (query) => rows.listCheckpoints(query),
    getWrites: (threadId, checkpointNs, checkpointIds) =>
      rows.getWrites(threadId, checkpointNs, checkpointIds),
    retainedHistory: (threadId, checkpointNs, checkpointId, channels) =>
      rows.retainedHistory(threadId, checkpointNs, checkpointId, channels),
    retainedRefs: (threadId) => rows.retainedRefs(threadId),
    threadIds: (after, limit) => rows.threadIds(after, limit),
    existingItemIds: (ids) => rows.existingItemIds(ids),
    itemMeta: (ids) => rows.itemMeta(ids),
    blobChildren: (ids) => rows.blobChildren(ids),
    liveRoots: () => rows.liveRoots(),
    allItems: () => rows.allItems(),
    write: (work, options) => rows.write(work, options),
    reclaimSpace: () => rows.reclaimSpace(),
    stats: () => rows.stats(),
    close: () => rows.close(),
  };
}

/** Every ref of retained histories through `transform` (seal or open), each bound to its place. */
function mapRetainedRefs(
  histories: ReadonlyMap<string, RetainedHistory>,
  checkpoint: { threadId: string; checkpointNs: string; checkpointId: string },
  transform: (ref: string, at: SealPlace) => string,
): Map<string, RetainedHistory> {
  const mapped = new Map<string, RetainedHistory>();
  for (const [channel, history] of histories) {
    const at = (seq: number) => retainedPlace({ ...checkpoint, channel, seq });
    mapped.set(channel, {
      seedRef: history.seedRef === undefined ? undefined : transform(history.seedRef, at(seedSeq)),
      writes: history.writes.map((write, seq) => ({
        taskId: write.taskId,
        valueRef: transform(write.valueRef, at(seq)),
      })),
    });
  }
  return mapped;
}
