import { createHash } from "node:crypto";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import {
  encodeBody,
  isLayeredBlobStore,
  resolveCompression,
  serdeOptionsFromEnv,
} from "@leangraph/serde";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { requireKind } from "../database/detect-kind.js";
import { ExitCode } from "../exit-codes.js";
import { openLeanStore } from "../lean/open-lean-store.js";
import { formatBytes, formatCount } from "../text-table.js";
import type { CommandContext, CommandOutcome } from "./command.js";

export interface CompactOptions {
  database: DatabaseTarget;
  lean: LeanStoreOptions;
}

/** Item rows read per page; each page is one short write transaction. */
const pageRows = 200;

interface ItemBodyRow {
  id: string;
  body: Uint8Array;
}

/**
 * The rows `compact` rewrites: value bodies kept in the database. Tree nodes stay plain (the
 * saver never compresses them: reachability reads their child ids from the row).
 */
interface ItemBodyPages {
  page(afterId: string): Promise<ItemBodyRow[]>;
  /** Replaces a body with an equivalent stored form (same plain bytes, so readers never notice). */
  replace(rows: readonly ItemBodyRow[]): Promise<void>;
}

function sqliteItemPages(db: import("better-sqlite3").Database): ItemBodyPages {
  const select = db.prepare(
    `SELECT id, body FROM lg_items WHERE kind = 'value' AND in_blob_store = 0 AND id > ?
     ORDER BY id LIMIT ${pageRows}`,
  );
  const update = db.prepare("UPDATE lg_items SET body = ?, byte_length = ? WHERE id = ?");
  const replaceAll = db.transaction((rows: readonly ItemBodyRow[]) => {
    for (const row of rows) update.run(row.body, row.body.byteLength, row.id);
  });
  return {
    async page(afterId) {
      return select.all(afterId) as ItemBodyRow[];
    },
    async replace(rows) {
      replaceAll(rows);
    },
  };
}

function postgresItemPages(pool: import("pg").Pool, schema: string): ItemBodyPages {
  const table = `"${schema}".lg_items`;
  return {
    async page(afterId) {
      const { rows } = await pool.query<ItemBodyRow>(
        `SELECT id, body FROM ${table} WHERE kind = 'value' AND NOT in_blob_store AND id > $1
         ORDER BY id LIMIT ${pageRows}`,
        [afterId],
      );
      return rows;
    },
    async replace(rows) {
      if (rows.length === 0) return;
      await pool.query(
        `UPDATE ${table} AS i SET body = u.body, byte_length = octet_length(u.body)
         FROM unnest($1::text[], $2::bytea[]) AS u(id, body) WHERE i.id = u.id`,
        [rows.map((row) => row.id), rows.map((row) => Buffer.from(row.body))],
      );
    },
  };
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * Rewrites bodies stored plain (written before compression, or with LG_COMPRESSION=off) in the
 * stored form LG_COMPRESSION asks for: value items in the database, then blobs. A body keeps its
 * id and its plain bytes, so readers (another process included) see no change but its size.
 * Killed or interrupted, rerun it: what is already compressed is skipped.
 */
export async function runCompact(
  options: CompactOptions,
  context: CommandContext,
): Promise<CommandOutcome> {
  await requireKind("<database>", options.database, ["lean"]);
  const { compression: setting } = serdeOptionsFromEnv(process.env);
  const compression = resolveCompression(setting);
  const store = await openLeanStore(options.database, options.lean);
  const report = {
    database: describeTarget(options.database),
    status: "done" as "done" | "interrupted",
    compression: compression ? `${compression.codec.name}-${compression.level}` : "off",
    items: { rewritten: 0, bytesBefore: 0, bytesAfter: 0 },
    blobs: { rewritten: 0, bytesBefore: 0, bytesAfter: 0 },
  };
  try {
    const saver = store.saver as LeanCheckpointSaver & { db?: unknown; pool?: unknown };
    const items =
      options.database.backend === "sqlite"
        ? sqliteItemPages(saver.db as import("better-sqlite3").Database)
        : postgresItemPages(saver.pool as import("pg").Pool, options.database.schema);
    context.progress.phase("compact items", undefined, "items");
    let seen = 0;
    for (let after = ""; compression !== undefined && !context.signal.aborted; ) {
      const rows = await items.page(after);
      if (rows.length === 0) break;
      const rewritten: ItemBodyRow[] = [];
      for (const row of rows) {
        // Only bodies stored exactly as their plain bytes; anything else is already in a stored form.
        if (sha256(row.body) !== row.id) continue;
        const body = encodeBody(row.body, compression);
        if (body === row.body) continue;
        rewritten.push({ id: row.id, body });
        report.items.bytesBefore += row.body.byteLength;
        report.items.bytesAfter += body.byteLength;
      }
      await items.replace(rewritten);
      report.items.rewritten += rewritten.length;
      seen += rows.length;
      context.progress.update(seen, `${formatCount(report.items.rewritten)} rewritten`);
      after = rows[rows.length - 1]!.id;
    }
    context.progress.done();

    const blobStore = store.saver.blobStore;
    context.progress.phase("compact blobs", undefined, "blobs");
    seen = 0;
    if (compression !== undefined && isLayeredBlobStore(blobStore)) {
      for await (const id of blobStore.list()) {
        if (context.signal.aborted) break;
        const { storedBefore, storedAfter } = await blobStore.rewritePlain(id);
        if (storedAfter !== storedBefore) {
          report.blobs.rewritten += 1;
          report.blobs.bytesBefore += storedBefore;
          report.blobs.bytesAfter += storedAfter;
        }
        seen += 1;
        context.progress.update(seen, `${formatCount(report.blobs.rewritten)} rewritten`);
      }
    }
    context.progress.done();
    if (context.signal.aborted) report.status = "interrupted";
  } finally {
    await store.close();
  }
  const saved =
    report.items.bytesBefore +
    report.blobs.bytesBefore -
    report.items.bytesAfter -
    report.blobs.bytesAfter;
  const text =
    report.compression === "off"
      ? "compact: LG_COMPRESSION=off, nothing to do."
      : `compact (${report.compression}): rewrote ${formatCount(report.items.rewritten)} items and ${formatCount(report.blobs.rewritten)} blobs, ${formatBytes(saved)} smaller${report.status === "interrupted" ? "; interrupted, rerun to continue" : ""}.`;
  return {
    exitCode: report.status === "interrupted" ? ExitCode.interrupted : ExitCode.ok,
    report,
    text,
  };
}
