import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import {
  type BlobStore,
  type CompressionOptions,
  type CompressionSetting,
  createCompressionLayer,
  type EncryptionKeySource,
  encryptionLayers,
  keyRingResolver,
  LeangraphError,
} from "@leangraph/serde";
import pg from "pg";
import type { CodecOptions } from "../codec/value-codec.js";
import { LeanCheckpointSaver } from "../core/lean-saver.js";
import type { RetentionOptions } from "../core/lifecycle/retention-sweeper.js";
import { CheckpointerErrorCode } from "../errors.js";
import { checkPostgresConnString, checkPostgresSaverArguments } from "../options.js";
import { createPostgresBlobStore } from "../stores/postgres-blob-store.js";
import { PostgresRowStore } from "./row-store.js";

export interface LeanPostgresSaverOptions {
  /** See LeanSaverOptions.serde. @default new RedactingSerializer({ blobStore }) */
  serde?: SerializerProtocol;
  /**
   * Store for large items and the default serializer's blobs. Pass the same store to a serializer
   * of your own that writes blobs: `gc()` deletes blobs no row of this saver names.
   * @default createPostgresBlobStore({ pool, schema }) (blobs in the same database)
   */
  blobStore?: BlobStore;
  /** Schema holding the saver's tables (created by `setup()`). @default "public" */
  schema?: string;
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
  /** See LeanSaverOptions.compression; also the default blob store's. @default "auto" */
  compression?: CompressionSetting | CompressionOptions;
}

/**
 * A LangGraph checkpoint saver on Postgres (pg Pool) whose rows hold only small JSON and ids.
 *
 * ```ts
 * const checkpointer = LeanPostgresSaver.fromConnString(process.env.LG_POSTGRES_URL!);
 * await checkpointer.setup();
 * const graph = builder.compile({ checkpointer });
 * ```
 */
export class LeanPostgresSaver extends LeanCheckpointSaver {
  readonly pool: pg.Pool;
  readonly #ownsPool: boolean;

  constructor(
    pool: pg.Pool,
    options: LeanPostgresSaverOptions = {},
    ownership: { ownsPool?: boolean } = {},
  ) {
    checkPostgresSaverArguments(pool, options, ownership);
    if ((pool.options.max ?? 10) < 2) {
      // A write transaction holds one client and may need a second for blob checks.
      throw new LeangraphError(
        CheckpointerErrorCode.invalidOption,
        `LeanPostgresSaver needs a pg Pool with max >= 2; got max=${pool.options.max}.`,
      );
    }
    const schema = options.schema ?? "public";
    // One resolver for rows and blobs: an async key provider is asked once.
    const encryptionKeys =
      options.encryptionKeys === undefined ? undefined : keyRingResolver(options.encryptionKeys);
    const blobStore =
      options.blobStore ??
      createPostgresBlobStore({
        pool,
        schema,
        layers: [
          createCompressionLayer(options.compression ?? "auto"),
          ...encryptionLayers(encryptionKeys),
        ],
      });
    super(new PostgresRowStore(pool, schema), {
      serde: options.serde,
      blobStore,
      codec: options.codec,
      orphanGraceMs: options.orphanGraceMs,
      retention: options.retention,
      itemCacheBytes: options.itemCacheBytes,
      encryptionKeys,
      compression: options.compression,
    });
    this.pool = pool;
    this.#ownsPool = ownership.ownsPool ?? false;
  }

  /** Creates a pool the saver owns (and ends in `close()`). */
  static fromConnString(
    connectionString: string,
    options: LeanPostgresSaverOptions = {},
  ): LeanPostgresSaver {
    checkPostgresConnString(connectionString, options);
    return new LeanPostgresSaver(new pg.Pool({ connectionString }), options, { ownsPool: true });
  }

  /** Closes the blob store, and the pool when the saver created it (an injected pool is the caller's). */
  override async close(): Promise<void> {
    await super.close();
    if (this.#ownsPool) await this.pool.end();
  }

  /** Alias of `close()`, matching the stock PostgresSaver. */
  async end(): Promise<void> {
    await this.close();
  }
}
