import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { createPostgresBlobStore, LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import {
  type BlobStore,
  type BodyLayer,
  createCompressionLayer,
  createFsBlobStore,
  encryptionLayers,
  LeangraphError,
  RedactingSerializer,
  SerdeErrorCode,
} from "@leangraph/serde";
import { dropSchema, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import Database from "better-sqlite3";
import pg from "pg";
import { repoRoot } from "../support/paths.js";
import type { FaultCounter } from "./fault-counter.js";
import { faultyPool, type PostgresFaultKind } from "./postgres-faults.js";
import { faultySqliteDatabase, type SqliteFaultKind } from "./sqlite-faults.js";

/** Where a fault is injected: the database connection, or the blob store. */
export type FaultLayer =
  | { layer: "connection"; kind: SqliteFaultKind | PostgresFaultKind }
  | { layer: "blobs"; errno: "EIO" | "ENOSPC" };

export interface Fault {
  at: FaultLayer;
  counter: FaultCounter;
}

/** One store (database + blobs) a trial runs on, opened healthy or with a fault layer. */
export interface SweepStore {
  open(fault?: Fault): Promise<OpenedSaver>;
  /** A copy with the same rows and blobs (checkpoint ids included), so runs compare by key. */
  clone(): Promise<SweepStore>;
  drop(): Promise<void>;
}

export interface OpenedSaver {
  saver: LeanCheckpointSaver;
  blobStore: BlobStore;
  close(): Promise<void>;
}

export interface SweepBackend {
  /** "sqlite" or "postgres", with " encrypted" when every payload and body is sealed. */
  name: string;
  /** Sealed stores cannot hold the 4a0dddc fixture, which was written plain. */
  encrypted: boolean;
  layers: FaultLayer[];
  /** An empty store for the seeded fixture, or a copy of the database 4a0dddc wrote. */
  createStore(kind: "empty" | "legacy"): Promise<SweepStore>;
  close(): Promise<void>;
}

/** The thresholds of the 4a0dddc fixtures (packages/checkpointer/test/fixtures/legacy). */
const legacyLimits = { maxStringBytes: 512, maxArrayLength: 4 };
/** Low enough that the fixture's values take every path: blobs, chunks, trees. */
const seededLimits = { maxStringBytes: 1024, maxArrayLength: 6, maxObjectKeys: 10 };
const codec = { blobMinBytes: 2048 };
const legacyDir = join(repoRoot, "packages/checkpointer/test/fixtures/legacy/4a0dddc");

const blobWrites = new Set(["put", "putStream", "delete"]);

/** One key for every encrypted trial: what is sealed in a template must open in its copies. */
const encryptionKeys = [{ id: "sweep", key: randomBytes(32) }];

/** How an encrypted store keeps bodies: compressed, then sealed; otherwise the stores' defaults. */
interface Sealing {
  layers: BodyLayer[] | undefined;
  encryptionKeys: typeof encryptionKeys | undefined;
}

function sealingOf(encrypted: boolean): Sealing {
  if (!encrypted) return { layers: undefined, encryptionKeys: undefined };
  return {
    layers: [createCompressionLayer("auto"), ...encryptionLayers(encryptionKeys)],
    encryptionKeys,
  };
}

/**
 * The blob store a trial's saver and serializer share: with a blob fault, every operation is
 * counted and the planned one fails as the fs store reports an I/O error (ERR_LG_BLOB_READ_FAILED
 * or ERR_LG_BLOB_WRITE_FAILED with the errno as cause). Whether a call fails is decided when it
 * is made, streams included (they fail at their first chunk), so concurrent calls count in the
 * order they were made.
 */
function blobLayer(store: BlobStore, fault: Fault | undefined): BlobStore {
  if (fault?.at.layer !== "blobs") return store;
  const { errno } = fault.at;
  const injected = (operation: string) => {
    const write = blobWrites.has(operation);
    return new LeangraphError(
      write ? SerdeErrorCode.blobWriteFailed : SerdeErrorCode.blobReadFailed,
      `Injected ${errno} in blob store ${operation} (fault sweep).`,
      { cause: Object.assign(new Error(`${errno}: injected`), { code: errno }) },
    );
  };
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      const operation = String(key);
      if (operation === "close") return value.bind(target);
      if (operation === "getStream" || operation === "list") {
        return (...args: unknown[]) => {
          const failing = fault.counter.due();
          const inner = value.apply(target, args) as AsyncIterable<unknown>;
          return (async function* () {
            if (failing) throw injected(operation);
            yield* inner;
          })();
        };
      }
      return async (...args: unknown[]) => {
        if (fault.counter.due()) throw injected(operation);
        return value.apply(target, args);
      };
    },
  });
}

function sqliteStoreAt(dir: string, file: string, limits: object, sealing: Sealing): SweepStore {
  const path = join(dir, file);
  return {
    async open(fault) {
      const db = new Database(path);
      const connection =
        fault?.at.layer === "connection"
          ? faultySqliteDatabase(db, fault.counter, fault.at.kind as SqliteFaultKind)
          : db;
      const blobStore = blobLayer(
        createFsBlobStore({ dir: `${path}.blobs`, layers: sealing.layers }),
        fault,
      );
      const saver = new LeanSqliteSaver(connection, {
        blobStore,
        serde: new RedactingSerializer({ blobStore, ...limits }),
        codec,
        encryptionKeys: sealing.encryptionKeys,
      });
      return {
        saver,
        blobStore,
        // Faults are over by the time a trial closes its saver (the counter is disarmed): an
        // error here is the saver's own and fails the trial.
        async close() {
          try {
            await saver.close();
          } finally {
            if (db.open) db.close();
          }
        },
      };
    },
    async clone() {
      const copy = mkdtempSync(join(tmpdir(), "lg-fault-sweep-"));
      cpSync(dir, copy, { recursive: true });
      return sqliteStoreAt(copy, file, limits, sealing);
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sqliteBackend(encrypted = false): SweepBackend {
  return {
    name: encrypted ? "sqlite encrypted" : "sqlite",
    encrypted,
    layers: [
      { layer: "connection", kind: "SQLITE_IOERR" },
      { layer: "connection", kind: "SQLITE_FULL" },
      { layer: "blobs", errno: "EIO" },
      { layer: "blobs", errno: "ENOSPC" },
    ],
    async createStore(kind) {
      const dir = mkdtempSync(join(tmpdir(), "lg-fault-sweep-"));
      if (kind === "legacy") cpSync(legacyDir, dir, { recursive: true });
      return sqliteStoreAt(
        dir,
        kind === "legacy" ? "legacy.sqlite" : "checkpoints.sqlite",
        kind === "legacy" ? legacyLimits : seededLimits,
        sealingOf(encrypted),
      );
    },
    async close() {},
  };
}

function postgresStoreIn(
  schema: string,
  limits: object,
  admin: pg.Client,
  sealing: Sealing,
): SweepStore {
  return {
    async open(fault) {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
      pool.on("error", () => {}); // a terminated idle client; the next query reconnects
      const connection =
        fault?.at.layer === "connection"
          ? faultyPool(pool, fault.counter, fault.at.kind as PostgresFaultKind, admin)
          : pool;
      const blobStore = blobLayer(
        createPostgresBlobStore({ pool: connection, schema, layers: sealing.layers }),
        fault,
      );
      const saver = new LeanPostgresSaver(connection, {
        schema,
        blobStore,
        serde: new RedactingSerializer({ blobStore, ...limits }),
        codec,
        encryptionKeys: sealing.encryptionKeys,
      });
      return {
        saver,
        blobStore,
        async close() {
          try {
            await saver.close();
          } finally {
            await pool.end();
          }
        },
      };
    },
    async clone() {
      const copy = uniqueSchema("sweep");
      const { rows } = await admin.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1",
        [schema],
      );
      const sequences = await admin.query<{ sequencename: string; next: string }>(
        "SELECT sequencename, coalesce(last_value + 1, start_value)::text AS next FROM pg_sequences WHERE schemaname = $1",
        [schema],
      );
      const statements = [`CREATE SCHEMA "${copy}"`];
      // Sequences first (the blob store keys its parts from one), continuing where they were.
      for (const { sequencename, next } of sequences.rows) {
        statements.push(`CREATE SEQUENCE "${copy}"."${sequencename}" START WITH ${next}`);
      }
      for (const { tablename } of rows) {
        statements.push(
          `CREATE TABLE "${copy}"."${tablename}" (LIKE "${schema}"."${tablename}" INCLUDING ALL)`,
          `INSERT INTO "${copy}"."${tablename}" SELECT * FROM "${schema}"."${tablename}"`,
        );
      }
      await admin.query(statements.join(";\n"));
      return postgresStoreIn(copy, limits, admin, sealing);
    },
    async drop() {
      await dropSchema(schema);
    },
  };
}

export async function postgresBackend(encrypted = false): Promise<SweepBackend> {
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  return {
    name: encrypted ? "postgres encrypted" : "postgres",
    encrypted,
    layers: [
      { layer: "connection", kind: "connection_lost" },
      { layer: "connection", kind: "disk_full" },
      { layer: "blobs", errno: "EIO" },
      { layer: "blobs", errno: "ENOSPC" },
    ],
    async createStore(kind) {
      const schema = uniqueSchema("sweep");
      if (kind === "legacy") {
        // pg_dump's psql meta-commands (\restrict …) are not SQL; the rest runs as one script.
        const dump = readFileSync(join(legacyDir, "legacy-postgres.sql"), "utf8")
          .split("\n")
          .filter((line) => !line.startsWith("\\"))
          .join("\n")
          .replaceAll("__LEGACY_SCHEMA__", schema);
        await admin.query(dump);
      }
      return postgresStoreIn(
        schema,
        kind === "legacy" ? legacyLimits : seededLimits,
        admin,
        sealingOf(encrypted),
      );
    },
    async close() {
      await admin.end();
    },
  };
}

export function describeLayer(at: FaultLayer): string {
  return at.layer === "connection" ? `connection ${at.kind}` : `blob store ${at.errno}`;
}
