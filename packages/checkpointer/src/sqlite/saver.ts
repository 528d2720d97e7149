import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import {
  type BlobStore,
  type CompressionOptions,
  type CompressionSetting,
  createCompressionLayer,
  createFsBlobStore,
  createMemoryBlobStore,
  type EncryptionKeySource,
  encryptionLayers,
  keyRingResolver,
} from "@leangraph/serde";
import Database from "better-sqlite3";
import type { CodecOptions } from "../codec/value-codec.js";
import { LeanCheckpointSaver } from "../core/lean-saver.js";
import type { RetentionOptions } from "../core/lifecycle/retention-sweeper.js";
import { checkSqliteConnString, checkSqliteSaverArguments } from "../options.js";
import { configureConnection, SqliteRowStore } from "./row-store.js";

export interface LeanSqliteSaverOptions {
  /** See LeanSaverOptions.serde. @default new RedactingSerializer({ blobStore }) */
  serde?: SerializerProtocol;
  /**
   * Store for large items and the default serializer's blobs. Pass the same store to a serializer
   * of your own that writes blobs: `gc()` deletes blobs no row of this saver names.
   * @default createFsBlobStore({ dir: "<db file>.blobs" }) (":memory:" databases: an in-memory
   * store), compressed as `compression` says
   */
  blobStore?: BlobStore;
  /**
   * How long a writer waits for another process's transaction before giving up.
   * @default 30000
   */
  busyTimeoutMs?: number;
  /** Chunking and inlining thresholds; see CodecOptions. */
  codec?: CodecOptions;
  /** See LeanSaverOptions.orphanGraceMs. @default 60000 */
  orphanGraceMs?: number;
  /** A retention policy applied in the background; see RetentionOptions. @default none */
  retention?: RetentionOptions;
  /** See LeanSaverOptions.itemCacheBytes; 0 turns the cache off. @default 8388608 (8 MiB) */
  itemCacheBytes?: number;
  /** Encryption at rest; see LeanSaverOptions.encryptionKeys. @default undefined (off) */
  encryptionKeys?: EncryptionKeySource;
  /** See LeanSaverOptions.compression. @default "auto" */
  compression?: CompressionSetting | CompressionOptions;
}

/** Default blob directory: beside the database, so copying or deleting the pair stays obvious. */
export function defaultBlobDirFor(dbPath: string): string {
  return join(dirname(dbPath), `${dbPath.split(/[\\/]/).pop()}.blobs`);
}

/**
 * A LangGraph checkpoint saver on SQLite (better-sqlite3) whose rows hold only small JSON and ids.
 *
 * ```ts
 * const checkpointer = LeanSqliteSaver.fromConnString(".lg/checkpoints.sqlite");
 * const graph = builder.compile({ checkpointer });
 * ```
 */
export class LeanSqliteSaver extends LeanCheckpointSaver {
  readonly db: Database.Database;

  constructor(db: Database.Database, options: LeanSqliteSaverOptions = {}) {
    checkSqliteSaverArguments(db, options);
    const busyTimeoutMs = options.busyTimeoutMs ?? 30_000;
    configureConnection(db, busyTimeoutMs);
    // One resolver for rows and blobs: an async key provider is asked once.
    const encryptionKeys =
      options.encryptionKeys === undefined ? undefined : keyRingResolver(options.encryptionKeys);
    // An in-memory database gets an in-memory blob store: nothing it writes should outlive it.
    const layers = [
      createCompressionLayer(options.compression ?? "auto"),
      ...encryptionLayers(encryptionKeys),
    ];
    const blobStore =
      options.blobStore ??
      (db.memory
        ? createMemoryBlobStore({ layers })
        : createFsBlobStore({ dir: defaultBlobDirFor(db.name), layers }));
    super(new SqliteRowStore(db, busyTimeoutMs), {
      serde: options.serde,
      blobStore,
      codec: options.codec,
      orphanGraceMs: options.orphanGraceMs,
      retention: options.retention,
      itemCacheBytes: options.itemCacheBytes,
      encryptionKeys,
      compression: options.compression,
    });
    this.db = db;
  }

  /** Opens (creating directories as needed) the database file at `path`. */
  static fromConnString(path: string, options: LeanSqliteSaverOptions = {}): LeanSqliteSaver {
    checkSqliteConnString(path, options);
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    return new LeanSqliteSaver(new Database(path), options);
  }
}
