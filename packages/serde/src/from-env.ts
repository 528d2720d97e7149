import { JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { isEnvironment, parseOptions } from "@leangraph/errors";
import { z } from "zod";
import type { BlobStore } from "./blob-store.js";
import { createCompressionLayer } from "./body/compression.js";
import { blobStoreOption, serdeOptionsFromEnv, serializerOption } from "./options.js";
import { RedactingSerializer } from "./redacting-serializer.js";
import { createFsBlobStore } from "./stores/fs.js";

export interface CreateSerializerFromEnvOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default createFsBlobStore({ dir: LG_BLOB_DIR ?? ".lg-blobs" }), compressed as LG_COMPRESSION says */
  blobStore?: BlobStore;
  /** @default new JsonPlusSerializer() */
  inner?: SerializerProtocol;
}

const createSerializerFromEnvOptionsSchema = z.strictObject({
  env: z
    .custom<NodeJS.ProcessEnv>(isEnvironment, {
      message: "an environment object such as process.env (string values)",
    })
    .optional(),
  blobStore: blobStoreOption.optional(),
  inner: serializerOption.optional(),
});

/**
 * The serializer the LG_* flags ask for: a RedactingSerializer, or with `LG_REDACTING_SERDE=off`
 * the inner serializer itself, unchanged. Invalid flags throw ERR_LG_INVALID_OPTION here, at start.
 */
export function createSerializerFromEnv(
  options: CreateSerializerFromEnvOptions = {},
): RedactingSerializer | SerializerProtocol {
  const parsed = parseOptions(
    createSerializerFromEnvOptionsSchema,
    options,
    "createSerializerFromEnv(options)",
  );
  const { enabled, blobDir, compression, ...limits } = serdeOptionsFromEnv(
    parsed.env ?? process.env,
  );
  const inner = parsed.inner ?? new JsonPlusSerializer();
  if (!enabled) return inner;
  return new RedactingSerializer({
    ...limits,
    inner,
    blobStore:
      parsed.blobStore ??
      createFsBlobStore({
        dir: blobDir ?? ".lg-blobs",
        layers: [createCompressionLayer(compression)],
      }),
  });
}
