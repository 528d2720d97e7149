import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import {
  type BlobStore,
  createCompressionLayer,
  createFsBlobStore,
  createMemoryBlobStore,
  createSerializerFromEnv,
  type EncryptionKeySource,
  encryptionLayers,
  LeangraphError,
} from "@leangraph/serde";
import type { StorageStats } from "./core/lean-saver.js";
import { CheckpointerErrorCode } from "./errors.js";
import { type CheckpointerFlags, checkpointerFlagsFromEnv } from "./flags.js";
import { requireOptionalPeers } from "./optional-peers.js";
import { checkCreateCheckpointerOptions } from "./options.js";
import { MeasuredMemorySaver } from "./stock/memory.js";

/** Any saver createCheckpointer returns: drop-in for `compile({ checkpointer })`, plus stats and close. */
export type ManagedCheckpointer = BaseCheckpointSaver & {
  storageStats(): Promise<StorageStats>;
  close(): Promise<void>;
};

export interface CreateCheckpointerOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Encryption at rest, as LeanSaverOptions.encryptionKeys takes it (keys or an async provider,
   * such as a KMS); replaces LG_ENCRYPTION_KEYS when given.
   * @default LG_ENCRYPTION_KEYS
   */
  encryptionKeys?: EncryptionKeySource;
}

/**
 * Builds the saver the LG_* flags ask for. With the default `LG_REDACTING_SERDE=on` that is a
 * lean saver whose serializer is a RedactingSerializer sharing the saver's blob store (so `gc()`
 * sees every blob); with `off` it is the stock SqliteSaver / PostgresSaver / MemorySaver with the
 * stock serializer, so a before/after comparison is one flag away. Invalid flags throw
 * ERR_LG_INVALID_OPTION before anything is opened; Postgres is connected and migrated here, so an
 * unreachable server also fails at start.
 *
 * The chosen backend is loaded here, on demand: its driver (better-sqlite3 or pg) is an optional
 * peer dependency, and a missing one fails with ERR_LG_DRIVER_MISSING naming what to install.
 */
export async function createCheckpointer(
  options: CreateCheckpointerOptions = {},
): Promise<ManagedCheckpointer> {
  checkCreateCheckpointerOptions(options);
  const env = options.env ?? process.env;
  const flags = checkpointerFlagsFromEnv(env);
  const encryptionKeys = options.encryptionKeys ?? flags.encryptionKeys;
  if (encryptionKeys !== undefined && (!flags.redacting || flags.backend === "memory")) {
    throw new LeangraphError(
      CheckpointerErrorCode.invalidOption,
      "Encryption at rest (LG_ENCRYPTION_KEYS or encryptionKeys) needs the lean SQLite or Postgres saver; the stock savers and LG_CHECKPOINTER=memory cannot encrypt.",
      { hint: "Unset the encryption keys, or use LG_REDACTING_SERDE=on with sqlite or postgres." },
    );
  }
  if (!flags.redacting) {
    if (flags.retention !== undefined) {
      throw new LeangraphError(
        CheckpointerErrorCode.invalidOption,
        "LG_RETENTION_KEEP_LAST / LG_RETENTION_MAX_AGE need the lean savers, but LG_REDACTING_SERDE=off selects the stock ones, which cannot prune.",
        { hint: "Unset the LG_RETENTION_* flags or LG_REDACTING_SERDE=off." },
      );
    }
    return createStockCheckpointer(flags);
  }

  const { compression } = flags;
  // Blob bodies are compressed, then sealed (rows and items are sealed by the saver itself).
  const layers = [createCompressionLayer(compression), ...encryptionLayers(encryptionKeys)];
  switch (flags.backend) {
    case "sqlite": {
      await requireOptionalPeers("LG_CHECKPOINTER=sqlite", ["better-sqlite3"]);
      const { defaultBlobDirFor, LeanSqliteSaver } = await import("./sqlite/saver.js");
      const blobStore = createFsBlobStore({
        dir: flags.blobDir ?? defaultBlobDirFor(flags.sqlitePath),
        layers,
      });
      const serde = createSerializerFromEnv({ env, blobStore });
      return LeanSqliteSaver.fromConnString(flags.sqlitePath, {
        serde,
        blobStore,
        retention: flags.retention,
        encryptionKeys,
        compression,
      });
    }
    case "postgres": {
      await requireOptionalPeers("LG_CHECKPOINTER=postgres", ["pg"]);
      const { default: pg } = await import("pg");
      const { LeanPostgresSaver } = await import("./postgres/saver.js");
      const { createPostgresBlobStore } = await import("./stores/postgres-blob-store.js");
      const pool = new pg.Pool({ connectionString: flags.postgresUrl });
      const blobStore: BlobStore =
        flags.blobStore === "postgres"
          ? createPostgresBlobStore({ pool, schema: flags.postgresSchema, layers })
          : createFsBlobStore({ dir: flags.blobDir ?? ".lg/blobs", layers });
      const serde = createSerializerFromEnv({ env, blobStore });
      const saver = new LeanPostgresSaver(
        pool,
        {
          serde,
          blobStore,
          schema: flags.postgresSchema,
          retention: flags.retention,
          encryptionKeys,
          compression,
        },
        { ownsPool: true },
      );
      await setupOrClose(saver, () => saver.close());
      return saver;
    }
    case "memory": {
      const blobStore = flags.blobDir
        ? createFsBlobStore({ dir: flags.blobDir, layers })
        : createMemoryBlobStore({ layers });
      return new MeasuredMemorySaver(createSerializerFromEnv({ env, blobStore }));
    }
  }
}

async function createStockCheckpointer(flags: CheckpointerFlags): Promise<ManagedCheckpointer> {
  switch (flags.backend) {
    case "sqlite": {
      await requireOptionalPeers("LG_CHECKPOINTER=sqlite with LG_REDACTING_SERDE=off", [
        "better-sqlite3",
        "@langchain/langgraph-checkpoint-sqlite",
      ]);
      const { default: Database } = await import("better-sqlite3");
      const { MeasuredSqliteSaver } = await import("./stock/sqlite.js");
      mkdirSync(dirname(flags.sqlitePath), { recursive: true });
      return new MeasuredSqliteSaver(new Database(flags.sqlitePath));
    }
    case "postgres": {
      await requireOptionalPeers("LG_CHECKPOINTER=postgres with LG_REDACTING_SERDE=off", [
        "pg",
        "@langchain/langgraph-checkpoint-postgres",
      ]);
      const { default: pg } = await import("pg");
      const { MeasuredPostgresSaver } = await import("./stock/postgres.js");
      const saver = new MeasuredPostgresSaver(
        new pg.Pool({ connectionString: flags.postgresUrl }),
        { schema: flags.postgresSchema, ownsPool: true },
      );
      await setupOrClose(saver, () => saver.close());
      return saver;
    }
    case "memory":
      return new MeasuredMemorySaver();
  }
}

async function setupOrClose(
  saver: { setup(): Promise<void> },
  close: () => Promise<void>,
): Promise<void> {
  try {
    await saver.setup();
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
