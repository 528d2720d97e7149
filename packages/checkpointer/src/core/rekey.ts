import {
  encodeBody,
  isLayeredBlobStore,
  isSealed,
  type KeyRing,
  keyRingResolver,
  LeangraphError,
  plainIfItMatches,
  sealedKeyId,
} from "@leangraph/serde";
import { sha256Hex } from "../codec/tree-node.js";
import type { NewItem } from "../codec/value-codec.js";
import { CheckpointerErrorCode } from "../errors.js";
import { encryptRowStore, readThread, sealedRefsKeyId, writeThread } from "./encrypted-rows.js";
import { rawAccessOf } from "./raw-access.js";
import type { RowStore } from "./row-store.js";

export interface RekeyOptions {
  /**
   * Take payloads without an envelope as they are and seal them: the step that moves a database
   * written without encryption to it. Off, a plaintext payload stops the run with
   * ERR_LG_ENCRYPTION_NOT_ENCRYPTED, so a rekey after rotation never adopts a row planted by hand.
   * @default false
   */
  adoptPlaintext?: boolean;
  /** Checked between threads and item batches: an aborted run stops there, and a rerun resumes. */
  signal?: AbortSignal;
  onProgress?: (progress: RekeyReport) => void;
}

export interface RekeyReport {
  /** The key everything is sealed with once the run completes (the ring's first). */
  keyId: string;
  threads: number;
  /** Threads that held a payload in plaintext or under another key, now sealed again. */
  threadsResealed: number;
  /** Item bodies kept in the database. */
  items: number;
  itemsResealed: number;
  /** Bodies in the blob store (a store without layers is left as it is). */
  blobs: number;
  blobsResealed: number;
}

/** Items per transaction: bounded so a run holds the exclusive lock for short stretches. */
const itemBatch = 200;
const threadPage = 100;

/**
 * Seals every row payload and database item body of the saver's database under its ring's
 * current key: after rotation (put the new key first, rekey, then drop the old key), or to move
 * a plaintext database to encryption (`adoptPlaintext`). Resumable: each thread and each batch of
 * items is one exclusive transaction, and what is already under the current key is skipped, so
 * a run that stops (crash, Ctrl-C) is finished by running it again. Blob-store bodies are
 * written again through the store's layers when they are not under the current key.
 */
export async function rekey(saver: object, options: RekeyOptions = {}): Promise<RekeyReport> {
  const access = rawAccessOf(saver);
  if (access === undefined || access.encryptionKeys === undefined) {
    throw new LeangraphError(
      CheckpointerErrorCode.invalidOption,
      "rekey needs a LeanSqliteSaver or LeanPostgresSaver opened with encryption keys (LG_ENCRYPTION_KEYS or encryptionKeys).",
    );
  }
  await access.setup();
  const ring = keyRingResolver(access.encryptionKeys);
  const keys = await ring();
  const raw = access.rawRows;
  const strict = encryptRowStore(raw, ring);
  const lenient = encryptRowStore(raw, ring, { adoptPlaintext: options.adoptPlaintext ?? false });
  const report: RekeyReport = {
    keyId: keys.currentKeyId,
    threads: 0,
    threadsResealed: 0,
    items: 0,
    itemsResealed: 0,
    blobs: 0,
    blobsResealed: 0,
  };
  let after: string | undefined;
  for (;;) {
    const threadIds = await raw.threadIds(after, threadPage);
    if (threadIds.length === 0) break;
    for (const threadId of threadIds) {
      await stopPoint(options.signal);
      report.threads += 1;
      if (await threadIsCurrent(raw, keys, threadId)) continue;
      await strict.write(
        async (tx) => {
          const thread = await readThread(lenient, raw, threadId);
          await tx.deleteThread(threadId);
          await writeThread(tx, threadId, thread);
        },
        { exclusive: true },
      );
      report.threadsResealed += 1;
      options.onProgress?.({ ...report });
    }
    after = threadIds.at(-1);
  }
  const stored = (await raw.allItems()).filter((item) => !item.inBlobStore).map((item) => item.id);
  for (let start = 0; start < stored.length; start += itemBatch) {
    await stopPoint(options.signal);
    const batch = stored.slice(start, start + itemBatch);
    report.items += batch.length;
    const bodies = await raw.itemBodies(batch);
    const stale = batch.filter((id) => {
      const body = bodies.get(id);
      return body != null && sealedKeyId(body) !== keys.currentKeyId;
    });
    if (stale.length === 0) continue;
    await strict.write(
      async (tx) => {
        const sealed = await raw.itemBodies(stale);
        const opened = await lenient.itemBodies(stale);
        const meta = await raw.itemMeta(stale);
        const items: NewItem[] = stale.map((id) => {
          const stored = opened.get(id)!;
          // A body opened from its envelope is proven by it (its id may be keyed, under this
          // key or an older one: it keeps that id). Adopted plaintext is trusted only if it is
          // what its sha256 id says, and is written in the body format's canonical form.
          const bytes = isSealed(sealed.get(id)!) ? stored : adoptedBody(id, stored);
          const { kind, blobRefs } = meta.get(id)!;
          return { id, kind, bytes, inBlobStore: false, blobRefs };
        });
        await tx.deleteItems(stale);
        await tx.insertItems(items);
      },
      { exclusive: true },
    );
    report.itemsResealed += stale.length;
    options.onProgress?.({ ...report });
  }
  // Blob-store bodies, through the store's own layers (compression, then this ring's encryption).
  const blobs = access.blobStore;
  if (isLayeredBlobStore(blobs)) {
    const stale = (stored: Uint8Array) => sealedKeyId(stored) !== keys.currentKeyId;
    for await (const id of blobs.list()) {
      report.blobs += 1;
      if (await blobs.rewriteIf(id, stale, options.adoptPlaintext ?? false)) {
        report.blobsResealed += 1;
        if (report.blobsResealed % itemBatch === 0) {
          options.onProgress?.({ ...report });
          await stopPoint(options.signal);
        }
      }
    }
  }
  // What was rewritten leaves free pages holding the old bytes: give them back (SQLite's file
  // shrinks). Old plaintext can still sit in a WAL, dead Postgres tuples and backups (README).
  if (report.threadsResealed + report.itemsResealed > 0) await raw.reclaimSpace();
  return report;
}

/**
 * A plaintext item body `rekey --adopt-plaintext` takes, proven against its sha256 id (once
 * decompressed: bodies are stored compressed, then sealed). A body kept plain that starts like a
 * compression header (written before headers existed) gets a header of its own: under encryption
 * no one re-hashes a body, so its header alone must say how to decode it.
 */
function adoptedBody(id: string, stored: Uint8Array): Uint8Array {
  const plain = plainIfItMatches(stored, id, `item ${id}`, sha256Hex);
  if (plain === undefined) {
    throw new LeangraphError(
      CheckpointerErrorCode.itemCorrupt,
      `Item ${id} does not hash to its id; rekey leaves it as it is and stops.`,
    );
  }
  return plain === stored ? encodeBody(plain, undefined) : stored;
}

/** Whether every payload of the thread is already sealed under the current key. */
async function threadIsCurrent(raw: RowStore, keys: KeyRing, threadId: string): Promise<boolean> {
  const current = keys.currentKeyId;
  const checkpoints = await raw.listCheckpoints({ threadId });
  for (const row of checkpoints) {
    if (sealedKeyId(row.checkpoint) !== current || sealedKeyId(row.metadata) !== current)
      return false;
    if (sealedRefsKeyId(row.channelRefs) !== current) return false;
  }
  for (const checkpointNs of new Set(checkpoints.map((row) => row.checkpointNs))) {
    const ids = checkpoints
      .filter((row) => row.checkpointNs === checkpointNs)
      .map((row) => row.checkpointId);
    for (const writes of (await raw.getWrites(threadId, checkpointNs, ids)).values())
      for (const write of writes) if (sealedRefsKeyId(write.valueRef) !== current) return false;
  }
  for (const ref of await raw.retainedRefs(threadId))
    if (sealedRefsKeyId(ref.valueRef) !== current) return false;
  return true;
}

/**
 * Between transactions: yields to the event loop first, so a SIGINT handler (a macrotask) can
 * abort the signal even while SQLite's synchronous calls keep every await in microtasks.
 */
async function stopPoint(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}
