import { JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import type { BlobStore } from "./blob-store.js";
import { serdeOptionsFromEnv } from "./options.js";
import { RedactingSerializer } from "./redacting-serializer.js";
import { createFsBlobStore } from "./stores/fs.js";

export interface CreateSerializerFromEnvOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default createFsBlobStore({ dir: LG_BLOB_DIR ?? ".lg-blobs" }) */
  blobStore?: BlobStore;
  /** @default new JsonPlusSerializer() */
  inner?: SerializerProtocol;
}

/**
 * The serializer the LG_* flags ask for: a RedactingSerializer, or with `LG_REDACTING_SERDE=off`
 * the inner serializer itself, unchanged. Invalid flags throw ERR_LG_INVALID_OPTION here, at start.
 */
export function createSerializerFromEnv(
  options: CreateSerializerFromEnvOptions = {},
): RedactingSerializer | SerializerProtocol {
  const { enabled, blobDir, ...limits } = serdeOptionsFromEnv(options.env ?? process.env);
  const inner = options.inner ?? new JsonPlusSerializer();
  if (!enabled) return inner;
  return new RedactingSerializer({
    ...limits,
    inner,
    blobStore: options.blobStore ?? createFsBlobStore({ dir: blobDir ?? ".lg-blobs" }),
  });
}
