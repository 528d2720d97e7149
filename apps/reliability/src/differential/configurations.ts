import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { createPostgresBlobStore, LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import {
  type CompressionSetting,
  createCompressionLayer,
  createFsBlobStore,
  encryptionLayers,
  RedactingSerializer,
} from "@leangraph/serde";
import { dropSchema, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";

/**
 * The lean saver configurations the fuzzer compares with MemorySaver. Thresholds are lowered so
 * the small fuzzed states take every storage path: strings and arrays externalized by the
 * serializer, items in the blob store, multi-level array trees, keyed object trees.
 */
const codec = {
  blobMinBytes: 2048,
  tree: { maxLeafEntries: 2, maxLeafBytes: 4096, maxInnerChildren: 2 },
};
const serializerLimits = { maxStringBytes: 1024, maxArrayLength: 6, maxObjectKeys: 10 };

export interface LeanConfiguration {
  name: string;
  saver: LeanCheckpointSaver;
  close(): Promise<void>;
}

type Opener = () => Promise<LeanConfiguration>;

/** One fixed key for the encryption-on configurations: every row payload and body sealed. */
const encryptionKeys = [{ id: "fuzz", key: randomBytes(32) }];

/** How stored bodies are kept: `off` plain; compressed; or compressed, then encrypted. */
interface Storage {
  compression?: CompressionSetting;
  encrypted?: boolean;
}

function layersOf(storage: Storage) {
  return [
    createCompressionLayer(storage.compression ?? "off"),
    ...encryptionLayers(storage.encrypted ? encryptionKeys : undefined),
  ];
}

function sqlite(name: string, redacting: boolean, storage: Storage = {}): Opener {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), `lg-diff-${name}-`));
    const blobStore = createFsBlobStore({ dir: join(dir, "blobs"), layers: layersOf(storage) });
    const serde = redacting
      ? new RedactingSerializer({ blobStore, ...serializerLimits })
      : new JsonPlusSerializer();
    const saver = LeanSqliteSaver.fromConnString(join(dir, "checkpoints.sqlite"), {
      blobStore,
      serde,
      codec,
      compression: storage.compression ?? "off",
      encryptionKeys: storage.encrypted ? encryptionKeys : undefined,
    });
    return {
      name,
      saver,
      async close() {
        await saver.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

function postgres(
  name: string,
  serdeKind: "redacting" | "jsonplus" | "redacting+fs",
  storage: Storage = {},
): Opener {
  return async () => {
    const schema = uniqueSchema(`diff_${name.replace(/\W/g, "_")}`);
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    const dir = mkdtempSync(join(tmpdir(), `lg-diff-${name}-`));
    // The serializer shares the saver's blob store, as createCheckpointer() wires them.
    const layers = layersOf(storage);
    const blobStore =
      serdeKind === "redacting+fs"
        ? createFsBlobStore({ dir, layers })
        : createPostgresBlobStore({ pool, schema, layers });
    const serde =
      serdeKind === "jsonplus"
        ? new JsonPlusSerializer()
        : new RedactingSerializer({ blobStore, ...serializerLimits });
    const saver = new LeanPostgresSaver(pool, {
      schema,
      codec,
      serde,
      blobStore,
      compression: storage.compression ?? "off",
      encryptionKeys: storage.encrypted ? encryptionKeys : undefined,
    });
    await saver.setup();
    return {
      name,
      saver,
      async close() {
        await saver.close();
        await pool.end();
        await dropSchema(schema);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

export const leanConfigurations: Record<string, Opener> = {
  "sqlite+redacting": sqlite("sqlite+redacting", true),
  "sqlite+jsonplus": sqlite("sqlite+jsonplus", false),
  "postgres+redacting": postgres("postgres+redacting", "redacting"),
  "postgres+jsonplus": postgres("postgres+jsonplus", "jsonplus"),
  "postgres+fs+redacting": postgres("postgres+fs+redacting", "redacting+fs"),
  // Issue 18: stored bodies compressed (items in the database and blobs), as the default flags do.
  "sqlite+redacting+compressed": sqlite("sqlite+redacting+compressed", true, {
    compression: "auto",
  }),
  "postgres+redacting+compressed": postgres("postgres+redacting+compressed", "redacting", {
    compression: "gzip",
  }),
  // Issue 19: compressed, then encrypted (rows, items and blobs).
  "sqlite+redacting+encrypted": sqlite("sqlite+redacting+encrypted", true, {
    compression: "auto",
    encrypted: true,
  }),
  "postgres+redacting+encrypted": postgres("postgres+redacting+encrypted", "redacting", {
    compression: "auto",
    encrypted: true,
  }),
};

export const postgresConfigurations = new Set(
  Object.keys(leanConfigurations).filter((name) => name.startsWith("postgres")),
);
