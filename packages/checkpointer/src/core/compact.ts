import { encodeBody, isLayeredBlobStore, LeangraphError, sha256Hex } from "@leangraph/serde";
import type { NewItem } from "../codec/encoded-value.js";
import { CheckpointerErrorCode } from "../errors.js";
import { rawAccessOf } from "./raw-access.js";

export interface CompactOptions {
  /** Checked between item batches and blobs: an aborted run stops there, and a rerun resumes. */
  signal?: AbortSignal;
  onProgress?: (progress: CompactReport) => void;
}

export interface CompactedBodies {
  /** Bodies looked at. */
  seen: number;
  /** Bodies written again in a smaller stored form, and their stored bytes before and after. */
  rewritten: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface CompactReport {
  /** What bodies are compressed with: the saver's compression, e.g. "brotli-4" (or "off"). */
  compression: string;
  phase: "items" | "blobs" | "done";
  /** Value items kept in the database. */
  items: CompactedBodies;
  /** Bodies in the blob store (a store without layers is left as it is). */
  blobs: CompactedBodies;
  /** True when the signal stopped the run early: run it again to finish. */
  interrupted: boolean;
}

/** Items per transaction: bounded so a run holds the exclusive lock for short stretches. */
const itemBatch = 200;

/**
 * Rewrites the bodies a saver keeps plain (written before compression, or with compression off)
 * in the stored form its compression setting asks for: value items in the database, then blobs.
 * A body keeps its id and its plain bytes, so every reader (another process included) sees no
 * change but its size. Resumable: a body already in a stored form is skipped, so a run that stops
 * (crash, Ctrl-C) is finished by running it again. Tree nodes are left as they are (a saver
 * compresses the leaves it writes; old plain ones keep loading); bodies under encryption are
 * `rekey`'s to rewrite.
 */
export async function compact(saver: object, options: CompactOptions = {}): Promise<CompactReport> {
  const access = rawAccessOf(saver);
  if (access === undefined) {
    throw new LeangraphError(
      CheckpointerErrorCode.invalidOption,
      "compact needs a LeanSqliteSaver or LeanPostgresSaver.",
    );
  }
  await access.setup();
  const { compression } = access;
  const report: CompactReport = {
    compression: compression ? `${compression.codec.name}-${compression.level}` : "off",
    phase: "items",
    items: { seen: 0, rewritten: 0, bytesBefore: 0, bytesAfter: 0 },
    blobs: { seen: 0, rewritten: 0, bytesBefore: 0, bytesAfter: 0 },
    interrupted: false,
  };
  const stopped = () => (report.interrupted ||= options.signal?.aborted ?? false);
  if (compression === undefined) return { ...report, phase: "done" };

  const raw = access.rawRows;
  const inDatabase = (await raw.allItems()).filter((item) => !item.inBlobStore).map(({ id }) => id);
  for (let start = 0; start < inDatabase.length && !(await stopPoint(stopped)); ) {
    const batch = inDatabase.slice(start, start + itemBatch);
    start += batch.length;
    report.items.seen += batch.length;
    const meta = await raw.itemMeta(batch);
    const bodies = await raw.itemBodies(batch);
    const smaller: NewItem[] = [];
    for (const id of batch) {
      const item = meta.get(id);
      const body = bodies.get(id);
      // Only value bodies stored exactly as their plain bytes; anything else is in a stored form
      // already (compressed, sealed) or is a tree node.
      if (item?.kind !== "value" || body == null || sha256Hex(body) !== id) continue;
      // At the level the saver writes row bodies with (BodyCompression.rowLevel).
      const stored = encodeBody(body, { ...compression, level: compression.rowLevel });
      if (stored === body) continue;
      smaller.push({
        id,
        kind: item.kind,
        bytes: stored,
        inBlobStore: false,
        blobRefs: item.blobRefs,
      });
      report.items.bytesBefore += body.byteLength;
      report.items.bytesAfter += stored.byteLength;
    }
    if (smaller.length > 0) {
      await raw.write(
        async (tx) => {
          await tx.deleteItems(smaller.map((item) => item.id));
          await tx.insertItems(smaller);
        },
        { exclusive: true },
      );
    }
    report.items.rewritten += smaller.length;
    options.onProgress?.({ ...report });
  }

  const blobs = access.blobStore;
  if (!report.interrupted && isLayeredBlobStore(blobs)) {
    report.phase = "blobs";
    for await (const id of blobs.list()) {
      if (await stopPoint(stopped)) break;
      report.blobs.seen += 1;
      const { storedBefore, storedAfter } = await blobs.rewritePlain(id);
      if (storedAfter !== storedBefore) {
        report.blobs.rewritten += 1;
        report.blobs.bytesBefore += storedBefore;
        report.blobs.bytesAfter += storedAfter;
      }
      options.onProgress?.({ ...report });
    }
  }
  if (!report.interrupted) report.phase = "done";
  // What was rewritten leaves free pages holding the old bytes: give them back (SQLite's file
  // shrinks).
  if (report.items.rewritten > 0) await raw.reclaimSpace();
  return report;
}

/**
 * Between transactions: yields to the event loop first, so a SIGINT handler (a macrotask) can
 * abort the signal even while SQLite's synchronous calls keep every await in microtasks.
 */
async function stopPoint(stopped: () => boolean): Promise<boolean> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  return stopped();
}
