import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { encryptionKeysFromEnv, type LeanCheckpointSaver } from "@leangraph/checkpointer";
import {
  type BlobStore,
  createCompressionLayer,
  createFsBlobStore,
  encryptionLayers,
  RedactingSerializer,
  serdeOptionsFromEnv,
} from "@leangraph/serde";
import type { LeanStoreOptions } from "../arguments/command-line.js";
import type { DatabaseTarget } from "../arguments/database-target.js";
import { createPool, openSqliteReadWrite } from "../database/connections.js";

/** A lean store opened by the CLI, and how to get another saver over the same connection. */
export interface LeanStore {
  readonly saver: LeanCheckpointSaver;
  readonly blobDir: string | undefined;
  /**
   * Another saver over the same connection and blob store, with empty caches. The lean saver
   * remembers the last arrays it encoded (up to 256 channels) so appends stay cheap; an import of
   * many threads takes a fresh saver per thread so memory holds one thread's arrays, not 256.
   */
  freshSaver(): LeanCheckpointSaver;
  close(): Promise<void>;
}

export interface OpenLeanStoreOptions {
  /**
   * Cap on the serializer's cache of large strings (LG_BLOB_CACHE_SIZE, default 1 GiB). An import
   * sets it low: its strings are decoded afresh per checkpoint, and the cache would otherwise keep
   * up to a gigabyte of them alive.
   */
  stringCacheBytes?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Opens a lean store the way `createCheckpointer()` builds one: the saver's blob store is shared
 * with a RedactingSerializer, so big values are content-addressed and deduplicated, and gc sees
 * every blob. The serializer is a RedactingSerializer whatever LG_REDACTING_SERDE says: reading a
 * lean store written with references needs it, and it reads plain JsonPlus payloads too. Its
 * limits follow the LG_* flags, as the application's saver would.
 */
export async function openLeanStore(
  target: DatabaseTarget,
  options: LeanStoreOptions,
  openOptions: OpenLeanStoreOptions = {},
): Promise<LeanStore> {
  const {
    enabled: _ignored,
    blobDir: _envBlobDir,
    compression,
    ...limits
  } = serdeOptionsFromEnv(openOptions.env ?? process.env);
  // An encrypted store opens with the application's keys; without them its rows are refused.
  const encryptionKeys = encryptionKeysFromEnv(openOptions.env ?? process.env);
  // Bodies are written as LG_COMPRESSION says, like the application's saver; any are read.
  const layers = [createCompressionLayer(compression), ...encryptionLayers(encryptionKeys)];
  if (openOptions.stringCacheBytes !== undefined) {
    limits.stringCacheBytes = Math.min(
      limits.stringCacheBytes ?? Number.POSITIVE_INFINITY,
      openOptions.stringCacheBytes,
    );
  }
  const serdeFor = (blobStore: BlobStore) => new RedactingSerializer({ ...limits, blobStore });

  if (target.backend === "sqlite") {
    // Each backend's saver loads its driver; only the one this database needs is imported.
    const { defaultBlobDirFor, LeanSqliteSaver } = await import("@leangraph/checkpointer/sqlite");
    mkdirSync(dirname(target.path), { recursive: true });
    const db = await openSqliteReadWrite(target.path);
    const blobDir = options.blobDir ?? defaultBlobDirFor(target.path);
    const blobStore = createFsBlobStore({ dir: blobDir, layers });
    const freshSaver = () =>
      new LeanSqliteSaver(db, {
        blobStore,
        serde: serdeFor(blobStore),
        encryptionKeys,
        compression,
      }) as LeanCheckpointSaver;
    const saver = freshSaver();
    await saver.setup();
    return {
      saver,
      blobDir,
      freshSaver,
      close: () => saver.close(),
    };
  }

  const { createPostgresBlobStore, LeanPostgresSaver } = await import(
    "@leangraph/checkpointer/postgres"
  );
  const pool = await createPool(target.url, 4);
  const blobStore: BlobStore =
    options.blobStore === "postgres"
      ? createPostgresBlobStore({ pool, schema: target.schema, layers })
      : createFsBlobStore({ dir: options.blobDir!, layers });
  const freshSaver = () =>
    new LeanPostgresSaver(pool, {
      schema: target.schema,
      blobStore,
      serde: serdeFor(blobStore),
      encryptionKeys,
      compression,
    });
  const saver = freshSaver();
  try {
    await saver.setup();
  } catch (error) {
    await pool.end();
    throw error;
  }
  return {
    saver,
    blobDir: options.blobStore === "fs" ? options.blobDir : undefined,
    freshSaver,
    async close() {
      await saver.close();
      await pool.end();
    },
  };
}
