import {
  type BlobId,
  type BlobStat,
  type BlobStore,
  type BodyLayer,
  type BodyStore,
  blobMissingError,
  LeangraphError,
  layeredBlobStore,
  SerdeErrorCode,
} from "@leangraph/serde";
import pg from "pg";
import { guardBlobStore } from "../core/storage-errors.js";
import { checkPostgresBlobStoreOptions } from "../options.js";
import { quotedSchema } from "../postgres/identifiers.js";
import { inTransaction } from "../postgres/row-store.js";
import { maxPartBytes, partLengths, tailLengths } from "./postgres-blob-layout.js";
import { createPartWriter, type PartWriter } from "./postgres-part-writer.js";

export interface PostgresBlobStoreOptions {
  /** An existing pool (not closed by `close()`), or… */
  pool?: pg.Pool;
  /** …a connection string; the store then owns its pool. */
  connectionString?: string;
  /** @default "public" */
  schema?: string;
  /**
   * Payload bytes per part row, 1 to 8120. A blob of any size is a sequence of part rows (never
   * one row, one query or one buffer); 8120 B is the largest part that fills one 8 KB heap page
   * uncompressed and un-TOASTed, so smaller values only cost space and exist for tests.
   * @default 8120
   */
  chunkBytes?: number;
  /**
   * Transformations of every stored body (compression, encryption), applied in order on write and
   * in reverse on read; ids stay the sha256 of the plain bytes. Bodies stored without them load.
   * @default [] (bodies stored as they are)
   */
  layers?: readonly BodyLayer[];
}

/** Append-only, index = version, recorded in lg_blob_store_migrations. Exported for tests. */
export function blobStoreMigrations(s: string): readonly string[] {
  return [
    `CREATE TABLE ${s}.lg_blobs (
      id TEXT PRIMARY KEY,
      byte_length BIGINT NOT NULL,
      chunk_count INTEGER NOT NULL,
      written_at_ms BIGINT NOT NULL
    )`,
    // blob_id is not a foreign key on purpose: a streamed upload writes chunks under a staging id
    // before its content id is known, and renames them in the same transaction.
    `CREATE TABLE ${s}.lg_blob_chunks (
      blob_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      bytes BYTEA NOT NULL,
      PRIMARY KEY (blob_id, seq)
    )`,
    // Payloads are usually already compressed or hashed content; skip TOAST's pglz attempt.
    `ALTER TABLE ${s}.lg_blob_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL`,
    // From migration 3 on, blobs live in lg_blob_parts under a bigint key; a header whose
    // parts_key is NULL still has its (up to 4 MiB, TOASTed) chunks in lg_blob_chunks, which stay
    // readable where they are.
    `ALTER TABLE ${s}.lg_blobs ADD COLUMN parts_key BIGINT`,
    `CREATE SEQUENCE ${s}.lg_blob_parts_keys`,
    // A bigint key rather than the 64-char id, which costs 57 B more in every ~8 KB row and in
    // its index entry, and which TOAST moves out of line by itself once a row passes 2 KB
    // (measured on 100 blobs of 200 KB: 1.063x the payload with a text key, 1.019x with this).
    // No foreign key: a streamed upload writes its parts before its content id is known.
    `CREATE TABLE ${s}.lg_blob_parts (
      blob_key BIGINT NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (blob_key, seq)
    )`,
    // PLAIN keeps each part in its heap page, uncompressed and never TOASTed (see
    // postgres-blob-layout.ts); added in the same ALTER so no TOAST table is ever created.
    `ALTER TABLE ${s}.lg_blob_parts
      ADD COLUMN bytes BYTEA NOT NULL, ALTER COLUMN bytes SET STORAGE PLAIN`,
    // Blobs written before migration 3 move into parts (each old chunk cut into page-sized
    // pieces, in order), then lg_blob_chunks goes: one layout to read, and no empty table, TOAST
    // table and index (~16 KB) kept forever. Chunk rows without a header cannot be read anyway.
    `UPDATE ${s}.lg_blobs SET parts_key = nextval('${s}.lg_blob_parts_keys') WHERE parts_key IS NULL;
    INSERT INTO ${s}.lg_blob_parts (blob_key, seq, bytes)
      SELECT b.parts_key,
        (row_number() OVER (PARTITION BY b.id ORDER BY c.seq, piece.n) - 1)::integer,
        substring(c.bytes FROM piece.n * ${maxPartBytes} + 1 FOR ${maxPartBytes})
      FROM ${s}.lg_blob_chunks AS c
      JOIN ${s}.lg_blobs AS b ON b.id = c.blob_id
      CROSS JOIN LATERAL generate_series(0, (length(c.bytes) - 1) / ${maxPartBytes}) AS piece(n)
      WHERE length(c.bytes) > 0;
    UPDATE ${s}.lg_blobs AS b
      SET chunk_count = (SELECT count(*) FROM ${s}.lg_blob_parts AS p WHERE p.blob_key = b.parts_key)
      WHERE b.id IN (SELECT blob_id FROM ${s}.lg_blob_chunks);
    DROP TABLE ${s}.lg_blob_chunks`,
  ];
}

function blobStoreSql(s: string) {
  return {
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    createMigrationsTable: `CREATE TABLE IF NOT EXISTS ${s}.lg_blob_store_migrations (v INTEGER PRIMARY KEY)`,
    migrationsApplied: `SELECT v FROM ${s}.lg_blob_store_migrations`,
    recordMigration: `INSERT INTO ${s}.lg_blob_store_migrations (v) VALUES ($1)`,
    lockSetup: `SELECT pg_advisory_xact_lock(hashtext($1))`,
    nextPartsKey: `SELECT nextval('${s}.lg_blob_parts_keys')::text AS key`,
    claimBlob: `INSERT INTO ${s}.lg_blobs (id, byte_length, chunk_count, written_at_ms, parts_key)
      VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id`,
    claimBlobWithNewKey: `INSERT INTO ${s}.lg_blobs (id, byte_length, chunk_count, written_at_ms, parts_key)
      VALUES ($1, $2, $3, $4, nextval('${s}.lg_blob_parts_keys'))
      ON CONFLICT (id) DO NOTHING RETURNING parts_key::text`,
    touchBlob: `UPDATE ${s}.lg_blobs SET written_at_ms = GREATEST($2, written_at_ms + 1) WHERE id = $1`,
    lockBlob: `SELECT parts_key FROM ${s}.lg_blobs WHERE id = $1 FOR UPDATE`,
    resetBlob: `UPDATE ${s}.lg_blobs
      SET byte_length = $2, chunk_count = $3, written_at_ms = $4, parts_key = $5 WHERE id = $1`,
    deleteParts: `DELETE FROM ${s}.lg_blob_parts WHERE blob_key = $1`,
    blobRow: `SELECT byte_length, chunk_count, written_at_ms, parts_key::text FROM ${s}.lg_blobs WHERE id = $1`,
    partRange: `SELECT seq, bytes FROM ${s}.lg_blob_parts
      WHERE blob_key = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`,
    deleteBlob: `DELETE FROM ${s}.lg_blobs WHERE id = $1 RETURNING parts_key::text`,
    listPage: `SELECT id FROM ${s}.lg_blobs WHERE id > $1 ORDER BY id LIMIT 1000`,
  } as const;
}

function writeFailed(error: unknown): LeangraphError {
  if (error instanceof LeangraphError) return error;
  return new LeangraphError(
    SerdeErrorCode.blobWriteFailed,
    "Could not write a blob into Postgres.",
    {
      cause: error,
      hint: "Check LG_POSTGRES_URL, that the server is up, and that the role may write the schema.",
    },
  );
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface BlobHeader {
  byte_length: string;
  /** How many part rows. */
  chunk_count: number;
  written_at_ms: string;
  parts_key: string;
}

/** ~4 MB of parts per read query. */
const partsPerRead = 512;

/**
 * A content-addressed BlobStore inside Postgres, so several machines can share threads through
 * nothing but the database. Each blob is a header row plus page-sized part rows; the header and
 * all parts commit in one transaction, so a blob that is listed is always whole (durable once
 * COMMIT returns, under Postgres's own WAL fsync).
 */
export interface PostgresBlobStore extends BlobStore {
  /** Creates its tables; idempotent. Every method also runs it on first use. */
  setup(): Promise<void>;
}

export function createPostgresBlobStore(options: PostgresBlobStoreOptions): PostgresBlobStore {
  checkPostgresBlobStoreOptions(options);
  const partBytes = options.chunkBytes ?? maxPartBytes;
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString });
  const schema = options.schema ?? "public";
  const s = quotedSchema(schema);
  const sql = blobStoreSql(s);
  let ready: Promise<void> | undefined;

  function setup(): Promise<void> {
    ready ??= inTransaction(pool, async (client) => {
      await client.query(sql.lockSetup, [`leangraph:blob-store:${schema}`]);
      await client.query(sql.createSchema);
      await client.query(sql.createMigrationsTable);
      const applied = new Set(
        (await client.query<{ v: number }>(sql.migrationsApplied)).rows.map((row) => row.v),
      );
      for (const [version, migration] of blobStoreMigrations(s).entries()) {
        if (applied.has(version)) continue;
        await client.query(migration);
        await client.query(sql.recordMigration, [version]);
      }
    }).catch((error) => {
      ready = undefined;
      throw error;
    });
    return ready;
  }

  function newPartWriter(client: pg.PoolClient): PartWriter {
    return createPartWriter(client, s, async () => {
      return (await client.query<{ key: string }>(sql.nextPartsKey)).rows[0]!.key;
    });
  }

  async function insertParts(writer: PartWriter, bytes: Uint8Array) {
    let offset = 0;
    for (const length of partLengths(bytes.byteLength, partBytes)) {
      await writer.append(asBuffer(bytes.subarray(offset, offset + length)));
      offset += length;
    }
    return writer.finish();
  }

  async function header(id: BlobId): Promise<BlobHeader | undefined> {
    return (await pool.query<BlobHeader>(sql.blobRow, [id])).rows[0];
  }

  /**
   * The stored parts in order, a batch per query, never the whole blob at once. Stops early at a
   * missing row: the caller's hash check then reports the damage.
   */
  async function* storedBatches(row: BlobHeader): AsyncGenerator<Buffer[]> {
    for (let seq = 0; seq < row.chunk_count; ) {
      const { rows } = await pool.query<{ seq: number; bytes: Buffer }>(sql.partRange, [
        row.parts_key,
        seq,
        Math.min(seq + partsPerRead, row.chunk_count),
      ]);
      if (rows.length === 0) return;
      yield rows.map((part) => part.bytes);
      seq = rows[rows.length - 1]!.seq + 1;
    }
  }

  /** Stores `stored` under `id`, replacing the parts of a body already there. */
  async function replaceBody(id: BlobId, stored: Uint8Array): Promise<void> {
    await inTransaction(pool, async (client) => {
      // The row lock makes concurrent writes of one body take turns instead of interleaving parts.
      const locked = (await client.query<{ parts_key: string }>(sql.lockBlob, [id])).rows[0];
      if (locked) await client.query(sql.deleteParts, [locked.parts_key]);
      const { partsKey, partCount } = await insertParts(newPartWriter(client), stored);
      const stamp = [id, stored.byteLength, partCount, Date.now(), partsKey];
      if (locked) {
        await client.query(sql.resetBlob, stamp);
      } else if ((await client.query(sql.claimBlob, stamp)).rowCount === 0) {
        // A concurrent write stored the body since we looked: ours is redundant.
        await client.query(sql.deleteParts, [partsKey]);
      }
    });
  }

  /** Cuts a stream into parts as it arrives, with the same layout put() gives the same bytes. */
  async function writeStream(
    writer: PartWriter,
    source: AsyncIterable<Uint8Array>,
  ): Promise<number> {
    let total = 0;
    // Less than one part between pieces, so joining it to the next piece copies little.
    let pending = Buffer.alloc(0);
    for await (const piece of source) {
      total += piece.byteLength;
      pending = Buffer.concat([pending, piece]);
      let offset = 0;
      for (; pending.byteLength - offset >= partBytes; offset += partBytes)
        await writer.append(pending.subarray(offset, offset + partBytes));
      pending = pending.subarray(offset);
    }
    let offset = 0;
    for (const length of tailLengths(pending.byteLength, partBytes)) {
      await writer.append(pending.subarray(offset, offset + length));
      offset += length;
    }
    return total;
  }

  async function touch(id: BlobId): Promise<boolean> {
    return ((await pool.query(sql.touchBlob, [id, Date.now()])).rowCount ?? 0) > 0;
  }

  const bodies: BodyStore = {
    setup,

    async write(id, stored) {
      try {
        await setup();
        await replaceBody(id, stored);
      } catch (error) {
        throw writeFailed(error);
      }
    },

    async writeStream(stored, idOf) {
      try {
        await setup();
        await inTransaction(pool, async (client) => {
          const writer = newPartWriter(client);
          const bytes = await writeStream(writer, stored);
          const { partsKey, partCount } = await writer.finish();
          const id = idOf();
          const { rowCount } = await client.query(sql.claimBlob, [
            id,
            bytes,
            partCount,
            Date.now(),
            partsKey,
          ]);
          if (rowCount === 0) {
            await client.query(sql.deleteParts, [partsKey]);
            await client.query(sql.touchBlob, [id, Date.now()]);
          }
        });
      } catch (error) {
        throw writeFailed(error);
      }
    },

    async touch(id) {
      await setup();
      return touch(id);
    },

    async read(id) {
      await setup();
      const row = await header(id);
      if (row === undefined) throw blobMissingError(id);
      const parts: Buffer[] = [];
      for await (const batch of storedBatches(row)) parts.push(...batch);
      const bytes = Buffer.concat(parts);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },

    async *readStream(id) {
      await setup();
      const row = await header(id);
      if (row === undefined) throw blobMissingError(id);
      for await (const batch of storedBatches(row)) {
        const joined = Buffer.concat(batch);
        yield new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
      }
    },

    async has(id) {
      await setup();
      return (await header(id)) !== undefined;
    },

    async stat(id): Promise<BlobStat | undefined> {
      await setup();
      const row = await header(id);
      return row && { bytes: Number(row.byte_length), writtenAtMs: Number(row.written_at_ms) };
    },

    async delete(id) {
      await setup();
      return inTransaction(pool, async (client) => {
        const deleted = (await client.query<{ parts_key: string }>(sql.deleteBlob, [id])).rows[0];
        if (deleted === undefined) return false;
        await client.query(sql.deleteParts, [deleted.parts_key]);
        return true;
      });
    },

    async *list() {
      await setup();
      let after = "";
      for (;;) {
        const { rows } = await pool.query<{ id: string }>(sql.listPage, [after]);
        for (const row of rows) yield row.id;
        if (rows.length < 1000) return;
        after = rows[rows.length - 1]!.id;
      }
    },

    async close() {
      if (ownsPool) await pool.end();
    },
  };
  const store = layeredBlobStore(bodies, options.layers) as PostgresBlobStore;
  return guardBlobStore(store);
}
