/*
 * The options of every public constructor and factory of this package, as strict zod schemas:
 * checked once, at the edge, before anything is opened or written. A rejected value or an
 * unknown option (a typo) throws ERR_LG_INVALID_OPTION naming the option, the value received and
 * what is accepted (see parseOptions in @leangraph/errors); code below trusts the typed result.
 */
import { isEnvironment, parseOptions } from "@leangraph/errors";
import {
  compressionOption,
  isBlobStore,
  isBodyLayer,
  isSerializerProtocol,
} from "@leangraph/serde";
import { z } from "zod";
import { schemaPattern } from "./postgres/identifiers.js";
import { maxPartBytes } from "./stores/postgres-blob-layout.js";

function wholeNumber(min: number, max: number, unit: string, note = "") {
  const accepted = `a whole number of ${unit} from ${min} to ${max}${note}`;
  return z.number({ message: accepted }).int(accepted).min(min, accepted).max(max, accepted);
}

/** setTimeout's ceiling; also the largest busy timeout SQLite takes (a C int). */
const maxTimerMs = 2 ** 31 - 1;

const serde = z.custom(isSerializerProtocol, {
  message: "a SerializerProtocol with dumpsTyped and loadsTyped, such as new RedactingSerializer()",
});

const blobStore = z.custom(isBlobStore, {
  message:
    "a BlobStore with put, putStream, get, getStream and has, such as createFsBlobStore({ dir })",
});

const codec = z.strictObject({
  inlineElementMaxBytes: wholeNumber(0, 16 * 1024 * 1024, "bytes").optional(),
  inlineValueMaxBytes: wholeNumber(0, 16 * 1024 * 1024, "bytes").optional(),
  blobMinBytes: wholeNumber(0, Number.MAX_SAFE_INTEGER, "bytes").optional(),
  tree: z
    .strictObject({
      maxLeafEntries: wholeNumber(1, 65_536, "entries").optional(),
      maxLeafBytes: wholeNumber(1, 16 * 1024 * 1024, "bytes").optional(),
      // One child per inner node would never reduce a level to a root.
      maxInnerChildren: wholeNumber(2, 65_536, "children").optional(),
    })
    .optional(),
  keyedTreeMinEntries: wholeNumber(1, 1_000_000, "entries").optional(),
});

const postgresSchemaName = z
  .string({ message: "a plain identifier (letters, digits, underscores; at most 63)" })
  .regex(schemaPattern, "a plain identifier (letters, digits, underscores; at most 63)");

const callback = z.custom((value) => typeof value === "function", { message: "a function" });

// Whether keepLast / maxAgeMs form a rule (at least one of them) is retentionRuleOf's to say.
const retention = z.strictObject({
  keepLast: wholeNumber(0, Number.MAX_SAFE_INTEGER, "checkpoints").optional(),
  maxAgeMs: wholeNumber(0, Number.MAX_SAFE_INTEGER, "milliseconds").optional(),
  sweepIntervalMs: wholeNumber(1, maxTimerMs, "milliseconds").optional(),
  threadsPerSweep: wholeNumber(1, 1_000_000, "threads").optional(),
  onSweep: callback.optional(),
  onSweepError: callback.optional(),
});

const leanSaverOptions = {
  serde: serde.optional(),
  blobStore: blobStore.optional(),
  codec: codec.optional(),
  orphanGraceMs: wholeNumber(0, Number.MAX_SAFE_INTEGER, "milliseconds").optional(),
  retention: retention.optional(),
  itemCacheBytes: wholeNumber(0, 1024 * 1024 * 1024, "bytes").optional(),
  // Checked by the key ring itself, whose errors never print a key (this check would print the value).
  encryptionKeys: z.unknown().optional(),
  compression: compressionOption.optional(),
};

const leanSqliteSaverOptions = z.strictObject({
  ...leanSaverOptions,
  busyTimeoutMs: wholeNumber(0, maxTimerMs, "milliseconds").optional(),
});

const leanPostgresSaverOptions = z.strictObject({
  ...leanSaverOptions,
  schema: postgresSchemaName.optional(),
});

const saverOwnership = z.strictObject({
  ownsPool: z.boolean({ message: "true or false" }).optional(),
});

const pgPool = z.custom(
  (value) =>
    typeof (value as { query?: unknown } | null)?.query === "function" &&
    typeof (value as { connect?: unknown } | null)?.connect === "function",
  { message: "a pg Pool (new pg.Pool({ connectionString }))" },
);

const postgresBlobStoreOptions = z
  .strictObject({
    pool: pgPool.optional(),
    connectionString: z
      .string({ message: "a URL such as postgres://user@host:5432/db" })
      .min(1, "a URL such as postgres://user@host:5432/db")
      .optional(),
    schema: postgresSchemaName.optional(),
    chunkBytes: wholeNumber(
      1,
      maxPartBytes,
      "bytes",
      " (the largest part one 8 KB heap page holds; smaller only costs space, so leave it unset)",
    ).optional(),
    layers: z
      .array(
        z.custom(isBodyLayer, {
          message: "a body layer ({ name, encode, decode }), e.g. createCompressionLayer()",
        }),
        { message: "an array of body layers" },
      )
      .optional(),
  })
  .refine((options) => options.pool === undefined || options.connectionString === undefined, {
    message: "either pool or connectionString, not both",
    path: ["connectionString"],
  });

const createCheckpointerOptions = z.strictObject({
  encryptionKeys: z.unknown().optional(),
  env: z
    .custom<NodeJS.ProcessEnv>(isEnvironment, {
      message: "an environment object such as process.env (string values)",
    })
    .optional(),
});

const connectionPath = z
  .string({ message: 'a database file path, or ":memory:"' })
  .min(1, 'a database file path, or ":memory:"');

const connectionUrl = z
  .string({ message: "a URL such as postgres://user@host:5432/db" })
  .min(1, "a URL such as postgres://user@host:5432/db");

const sqliteDatabase = z.custom(
  (value) =>
    typeof (value as { prepare?: unknown } | null)?.prepare === "function" &&
    typeof (value as { pragma?: unknown } | null)?.pragma === "function",
  {
    message:
      "a better-sqlite3 Database (new Database(path)); to open a file by its path use LeanSqliteSaver.fromConnString(path)",
  },
);

/** Omitted options are no options; anything else (null included) must be an object. */
function orEmpty(options: unknown): unknown {
  return options === undefined ? {} : options;
}

/** Options may come from JavaScript or JSON config, so they are checked whatever their type says. */
export function checkSqliteSaverArguments(db: unknown, options: unknown): void {
  const subject = "new LeanSqliteSaver(db, options)";
  parseOptions(z.strictObject({ db: sqliteDatabase }), { db }, subject);
  parseOptions(leanSqliteSaverOptions, orEmpty(options), subject);
}

export function checkPostgresSaverArguments(
  pool: unknown,
  options: unknown,
  ownership: unknown,
): void {
  const subject = "new LeanPostgresSaver(pool, options)";
  parseOptions(z.strictObject({ pool: pgPool }), { pool }, subject);
  parseOptions(leanPostgresSaverOptions, orEmpty(options), subject);
  parseOptions(saverOwnership, orEmpty(ownership), subject);
}

export function checkPostgresBlobStoreOptions(options: unknown): void {
  parseOptions(postgresBlobStoreOptions, orEmpty(options), "createPostgresBlobStore(options)");
}

export function checkCreateCheckpointerOptions(options: unknown): void {
  parseOptions(createCheckpointerOptions, orEmpty(options), "createCheckpointer(options)");
}

/** fromConnString checks its options too, before it opens (and so creates) anything. */
export function checkSqliteConnString(path: unknown, options: unknown): void {
  const subject = "LeanSqliteSaver.fromConnString(path, options)";
  parseOptions(z.strictObject({ path: connectionPath }), { path }, subject);
  parseOptions(leanSqliteSaverOptions, orEmpty(options), subject);
}

export function checkPostgresConnString(connectionString: unknown, options: unknown): void {
  const subject = "LeanPostgresSaver.fromConnString(connectionString, options)";
  parseOptions(z.strictObject({ connectionString: connectionUrl }), { connectionString }, subject);
  parseOptions(leanPostgresSaverOptions, orEmpty(options), subject);
}
