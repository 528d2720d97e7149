import { LeangraphError, WorkersErrorCode } from "../errors.js";
import { importOptional } from "./optional-packages.js";

/**
 * What the queue needs of a blob store every machine reaches: the part of @leangraph/serde's
 * `BlobStore` it calls, so any store (Postgres, a shared directory, one of your own) fits without
 * this package depending on serde. Ids are the sha256 hex of the bytes (or the store's keyed ids,
 * when it encrypts and says so through `contentIds`); reads verify them.
 */
export interface SharedBlobStore {
  put(bytes: Uint8Array): Promise<string>;
  putStream(source: AsyncIterable<Uint8Array>): Promise<{ id: string; bytes: number }>;
  get(id: string): Promise<Uint8Array>;
  getStream(id: string): AsyncIterable<Uint8Array>;
  /** How the store names bodies (serde's `BlobStore.contentIds`); absent: sha256. */
  contentIds?(): Promise<SharedContentIds>;
  close?(): Promise<void>;
}

/** The part of serde's `ContentIds` the queue uses (structurally the same). */
export interface SharedContentIds {
  readonly keyed: boolean;
  of(bytes: Uint8Array): string;
  hasher(): { update(chunk: Uint8Array): void; digestHex(): string };
}

export function isSharedBlobStore(value: unknown): value is SharedBlobStore {
  const candidate = value as Record<string, unknown> | null | undefined;
  return ["put", "putStream", "get", "getStream"].every(
    (name) => typeof candidate?.[name] === "function",
  );
}

/**
 * The store the agent and its workers share, from the same flags the checkpointer reads (the
 * checkpointer owns them, so they are parsed there): `LG_BLOB_STORE=postgres` (with
 * `LG_CHECKPOINTER=postgres` and `LG_POSTGRES_URL`) puts step outputs in the Postgres blob store;
 * otherwise `LG_BLOB_DIR` must name a directory every machine mounts. Without either there is no
 * place both sides reach, which fails here, at start.
 */
export async function sharedBlobStoreFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<SharedBlobStore> {
  const what = "A step queue's shared blob store";
  const { checkpointerFlagsFromEnv } = await importOptional(
    "@leangraph/checkpointer",
    () => import("@leangraph/checkpointer"),
    what,
  );
  const flags = checkpointerFlagsFromEnv(env);
  if (flags.blobStore === "postgres") {
    const { createPostgresBlobStore } = await importOptional(
      "@leangraph/checkpointer",
      () => import("@leangraph/checkpointer/postgres"),
      what,
    );
    const store = createPostgresBlobStore({
      connectionString: flags.postgresUrl,
      schema: flags.postgresSchema,
    });
    await store.setup();
    return store;
  }
  if (flags.blobDir !== undefined) {
    const { createFsBlobStore } = await importOptional(
      "@leangraph/serde",
      () => import("@leangraph/serde"),
      what,
    );
    return createFsBlobStore({ dir: flags.blobDir });
  }
  throw new LeangraphError(
    WorkersErrorCode.invalidOption,
    "LG_STEP_QUEUE needs a blob store that the agent and every worker reach, and none is set.",
    {
      hint: "Set LG_BLOB_STORE=postgres (with LG_CHECKPOINTER=postgres and LG_POSTGRES_URL), or LG_BLOB_DIR to a directory every machine mounts; workers take the same flags.",
    },
  );
}
