import { createHash, randomUUID } from "node:crypto";
import {
  assertBlobId,
  type BlobId,
  type BlobStat,
  type BlobStore,
  blobCorruptError,
  blobMissingError,
  LeangraphError,
  SerdeErrorCode,
  sha256Hex,
} from "@leangraph/serde";
import pg from "pg";
import { quotedSchema } from "../postgres/identifiers.js";
import { inTransaction } from "../postgres/row-store.js";

export interface PostgresBlobStoreOptions {
  /** An existing pool (not closed by `close()`), or… */
  pool?: pg.Pool;
  /** …a connection string; the store then owns its pool. */
  connectionString?: string;
  /** @default "public" */
  schema?: string;
  /**
   * Bytes per chunk row. A bytea value is capped at 1 GB and a whole blob never has to fit one
   * row, one query or one buffer: blobs of any size are a sequence of chunk rows.
   * @default 4194304 (4 MiB)
   */
  chunkBytes?: number;
}

/** Append-only, index = version, recorded in lg_blob_store_migrations. */
function blobStoreMigrations(s: string): readonly string[] {
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
  ];
}

function blobStoreSql(s: string) {
  return {
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    createMigrationsTable: `CREATE TABLE IF NOT EXISTS ${s}.lg_blob_store_migrations (v INTEGER PRIMARY KEY)`,
    migrationsApplied: `SELECT v FROM ${s}.lg_blob_store_migrations`,
    recordMigration: `INSERT INTO ${s}.lg_blob_store_migrations (v) VALUES ($1)`,
    lockSetup: `SELECT pg_advisory_xact_lock(hashtext($1))`,
    claimBlob: `INSERT INTO ${s}.lg_blobs (id, byte_length, chunk_count, written_at_ms)
      VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id`,
    touchBlob: `UPDATE ${s}.lg_blobs SET written_at_ms = GREATEST($2, written_at_ms + 1) WHERE id = $1`,
    resetBlob: `UPDATE ${s}.lg_blobs SET byte_length = $2, chunk_count = $3, written_at_ms = $4 WHERE id = $1`,
    insertChunk: `INSERT INTO ${s}.lg_blob_chunks (blob_id, seq, bytes) VALUES ($1, $2, $3)`,
    renameChunks: `UPDATE ${s}.lg_blob_chunks SET blob_id = $2 WHERE blob_id = $1`,
    deleteChunks: `DELETE FROM ${s}.lg_blob_chunks WHERE blob_id = $1`,
    blobRow: `SELECT byte_length, chunk_count, written_at_ms FROM ${s}.lg_blobs WHERE id = $1`,
    allChunks: `SELECT bytes FROM ${s}.lg_blob_chunks WHERE blob_id = $1 ORDER BY seq`,
    oneChunk: `SELECT bytes FROM ${s}.lg_blob_chunks WHERE blob_id = $1 AND seq = $2`,
    deleteBlob: `DELETE FROM ${s}.lg_blobs WHERE id = $1 RETURNING id`,
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

/**
 * A content-addressed BlobStore inside Postgres, so several machines can share threads through
 * nothing but the database. Each blob is a header row plus chunk rows; the header and all chunks
 * commit in one transaction, so a blob that is listed is always whole (durable once COMMIT
 * returns, under Postgres's own WAL fsync).
 */
export interface PostgresBlobStore extends BlobStore {
  /** Creates its tables; idempotent. Every method also runs it on first use. */
  setup(): Promise<void>;
}

export function createPostgresBlobStore(options: PostgresBlobStoreOptions): PostgresBlobStore {
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString });
  const schema = options.schema ?? "public";
  const s = quotedSchema(schema);
  const sql = blobStoreSql(s);
  const chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
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

  async function insertChunks(
    client: pg.PoolClient,
    blobId: string,
    bytes: Uint8Array,
  ): Promise<number> {
    let seq = 0;
    for (let offset = 0; offset < bytes.byteLength || seq === 0; offset += chunkBytes) {
      await client.query(sql.insertChunk, [
        blobId,
        seq,
        asBuffer(bytes.subarray(offset, offset + chunkBytes)),
      ]);
      seq += 1;
    }
    return seq;
  }

  async function header(id: BlobId) {
    const { rows } = await pool.query<{
      byte_length: string;
      chunk_count: number;
      written_at_ms: string;
    }>(sql.blobRow, [id]);
    return rows[0];
  }

  /** Hashes the stored chunks one at a time (never the whole blob in memory). */
  async function storedDigest(
    id: BlobId,
    chunkCount: number,
  ): Promise<{ digest: string; bytes: number }> {
    const hash = createHash("sha256");
    let bytes = 0;
    for (let seq = 0; seq < chunkCount; seq += 1) {
      const chunk = (await pool.query<{ bytes: Buffer }>(sql.oneChunk, [id, seq])).rows[0];
      if (chunk === undefined) return { digest: "", bytes };
      hash.update(chunk.bytes);
      bytes += chunk.bytes.byteLength;
    }
    return { digest: hash.digest("hex"), bytes };
  }

  async function healIfDamaged(id: BlobId, bytes: Uint8Array): Promise<void> {
    const row = await header(id);
    const healthy =
      row !== undefined &&
      Number(row.byte_length) === bytes.byteLength &&
      (await storedDigest(id, row.chunk_count)).digest === id;
    await inTransaction(pool, async (client) => {
      if (healthy) {
        await client.query(sql.touchBlob, [id, Date.now()]);
        return;
      }
      await client.query(sql.deleteChunks, [id]);
      const chunkCount = await insertChunks(client, id, bytes);
      if (
        (await client.query(sql.claimBlob, [id, bytes.byteLength, chunkCount, Date.now()]))
          .rowCount === 0
      ) {
        await client.query(sql.resetBlob, [id, bytes.byteLength, chunkCount, Date.now()]);
      }
    });
  }

  const store: PostgresBlobStore = {
    setup,

    async put(bytes) {
      const id = sha256Hex(bytes);
      try {
        await setup();
        const claimed = await inTransaction(pool, async (client) => {
          const chunkCount = Math.max(1, Math.ceil(bytes.byteLength / chunkBytes));
          const { rowCount } = await client.query(sql.claimBlob, [
            id,
            bytes.byteLength,
            chunkCount,
            Date.now(),
          ]);
          if (rowCount === 0) return false;
          await insertChunks(client, id, bytes);
          return true;
        });
        // Same content already stored: verify rather than trust it (a damaged copy gets rewritten).
        if (!claimed) await healIfDamaged(id, bytes);
        return id;
      } catch (error) {
        throw writeFailed(error);
      }
    },

    async putStream(source) {
      try {
        await setup();
        return await inTransaction(pool, async (client) => {
          const stagingId = `staging:${randomUUID()}`;
          const hash = createHash("sha256");
          let total = 0;
          let seq = 0;
          let pending: Buffer[] = [];
          let pendingBytes = 0;
          const takeChunk = async (size: number) => {
            const joined = Buffer.concat(pending);
            await client.query(sql.insertChunk, [stagingId, seq, joined.subarray(0, size)]);
            seq += 1;
            pending = [joined.subarray(size)];
            pendingBytes = joined.byteLength - size;
          };
          for await (const piece of source) {
            hash.update(piece);
            total += piece.byteLength;
            pending.push(Buffer.from(piece));
            pendingBytes += piece.byteLength;
            while (pendingBytes >= chunkBytes) await takeChunk(chunkBytes);
          }
          if (pendingBytes > 0 || seq === 0) await takeChunk(pendingBytes);
          const id = hash.digest("hex");
          const { rowCount } = await client.query(sql.claimBlob, [id, total, seq, Date.now()]);
          if (rowCount === 0) {
            await client.query(sql.deleteChunks, [stagingId]);
            await client.query(sql.touchBlob, [id, Date.now()]);
          } else {
            await client.query(sql.renameChunks, [stagingId, id]);
          }
          return { id, bytes: total };
        });
      } catch (error) {
        throw writeFailed(error);
      }
    },

    async get(id) {
      assertBlobId(id);
      await setup();
      const row = await header(id);
      if (row === undefined) throw blobMissingError(id);
      const { rows } = await pool.query<{ bytes: Buffer }>(sql.allChunks, [id]);
      const bytes = Buffer.concat(rows.map((chunk) => chunk.bytes));
      const actual = sha256Hex(bytes);
      if (actual !== id) throw blobCorruptError(id, actual, bytes.byteLength);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },

    async *getStream(id) {
      assertBlobId(id);
      await setup();
      const row = await header(id);
      if (row === undefined) throw blobMissingError(id);
      const hash = createHash("sha256");
      let bytes = 0;
      for (let seq = 0; seq < row.chunk_count; seq += 1) {
        const chunk = (await pool.query<{ bytes: Buffer }>(sql.oneChunk, [id, seq])).rows[0];
        if (chunk === undefined) break;
        hash.update(chunk.bytes);
        bytes += chunk.bytes.byteLength;
        yield new Uint8Array(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
      }
      const actual = hash.digest("hex");
      if (actual !== id) throw blobCorruptError(id, actual, bytes);
    },

    async has(id) {
      assertBlobId(id);
      await setup();
      return (await header(id)) !== undefined;
    },

    async stat(id): Promise<BlobStat | undefined> {
      assertBlobId(id);
      await setup();
      const row = await header(id);
      return row && { bytes: Number(row.byte_length), writtenAtMs: Number(row.written_at_ms) };
    },

    async delete(id) {
      assertBlobId(id);
      await setup();
      return inTransaction(pool, async (client) => {
        const { rowCount } = await client.query(sql.deleteBlob, [id]);
        await client.query(sql.deleteChunks, [id]);
        return (rowCount ?? 0) > 0;
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
  return store;
}
