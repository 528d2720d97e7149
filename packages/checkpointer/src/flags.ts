import {
  type CompressionOptions,
  KeyRing,
  LeangraphError,
  parseEncryptionKeys,
  serdeOptionsFromEnv,
} from "@leangraph/serde";
import { z } from "zod";
import type { RetentionOptions } from "./core/lifecycle/retention-sweeper.js";
import { acceptedDuration, parseDurationMs } from "./duration.js";
import { CheckpointerErrorCode } from "./errors.js";

const durationFlag = z
  .string()
  .transform((text, context) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      context.addIssue({ code: "custom", message: acceptedDuration });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

/**
 * The LG_* variables this package reads, in one schema. Empty strings count as unset, so
 * `LG_BLOB_DIR=` in a .env file means "default", not "the current directory".
 */
export const checkpointerEnvSchema = z
  .object({
    LG_CHECKPOINTER: z
      .enum(["sqlite", "postgres", "memory"], { message: "one of sqlite, postgres, memory" })
      .default("sqlite"),
    LG_SQLITE_PATH: z.string().min(1, "a file path").default(".lg/checkpoints.sqlite"),
    LG_POSTGRES_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\/.+/, "a URL such as postgres://user@host:5432/db")
      .optional(),
    LG_POSTGRES_SCHEMA: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "a plain identifier (letters, digits, underscores)")
      .default("public"),
    LG_BLOB_DIR: z.string().min(1, "a directory path").optional(),
    LG_BLOB_STORE: z.enum(["fs", "postgres"], { message: "fs or postgres" }).optional(),
    LG_RETENTION_KEEP_LAST: z
      .string()
      .regex(/^\s*[1-9]\d*\s*$/, "a positive whole number such as 20")
      .transform(Number)
      .optional(),
    LG_RETENTION_MAX_AGE: durationFlag,
    LG_RETENTION_SWEEP_INTERVAL: durationFlag,
    LG_ENCRYPTION_KEYS: z
      .string()
      .transform((text, context) => {
        try {
          return new KeyRing(parseEncryptionKeys(text));
        } catch (error) {
          // The ring's message names the key id at fault, never a key.
          const problem = (error as Error).message
            .replace(/^Invalid encryption keys: /, "")
            .replace(/\.$/, "");
          context.addIssue({ code: "custom", message: problem });
          return z.NEVER;
        }
      })
      .optional(),
  })
  .superRefine((flags, context) => {
    if (flags.LG_CHECKPOINTER === "postgres" && flags.LG_POSTGRES_URL === undefined) {
      context.addIssue({
        code: "custom",
        path: ["LG_POSTGRES_URL"],
        message:
          "a URL such as postgres://user@host:5432/db (required when LG_CHECKPOINTER=postgres)",
      });
    }
    const retention =
      flags.LG_RETENTION_KEEP_LAST !== undefined || flags.LG_RETENTION_MAX_AGE !== undefined;
    if (retention && flags.LG_CHECKPOINTER === "memory") {
      context.addIssue({
        code: "custom",
        path: [
          flags.LG_RETENTION_KEEP_LAST !== undefined
            ? "LG_RETENTION_KEEP_LAST"
            : "LG_RETENTION_MAX_AGE",
        ],
        message: "unset (retention applies to LG_CHECKPOINTER=sqlite or postgres)",
      });
    }
    if (flags.LG_ENCRYPTION_KEYS !== undefined && flags.LG_CHECKPOINTER === "memory") {
      context.addIssue({
        code: "custom",
        path: ["LG_ENCRYPTION_KEYS"],
        message: "unset (encryption at rest applies to LG_CHECKPOINTER=sqlite or postgres)",
      });
    }
    if (flags.LG_BLOB_STORE === "postgres" && flags.LG_CHECKPOINTER !== "postgres") {
      context.addIssue({
        code: "custom",
        path: ["LG_BLOB_STORE"],
        message: "fs (postgres blob storage needs LG_CHECKPOINTER=postgres)",
      });
    }
  });

export interface CheckpointerFlags {
  backend: "sqlite" | "postgres" | "memory";
  sqlitePath: string;
  postgresUrl: string | undefined;
  postgresSchema: string;
  blobDir: string | undefined;
  /** Postgres defaults to its own blob table, so machines share a thread through Postgres alone. */
  blobStore: "fs" | "postgres";
  /** `LG_REDACTING_SERDE` (read by @leangraph/serde's schema): off means the stock savers. */
  redacting: boolean;
  /** `LG_RETENTION_*`: undefined when neither KEEP_LAST nor MAX_AGE is set. */
  retention: RetentionOptions | undefined;
  /** `LG_ENCRYPTION_KEYS`, validated: undefined means no encryption. */
  encryptionKeys: KeyRing | undefined;
  /** `LG_COMPRESSION` / `LG_COMPRESSION_LEVEL` (read by @leangraph/serde's schema). */
  compression: CompressionOptions;
}

/** Flags whose value is a secret: an error names them, never shows them. */
const secretFlags = new Set(["LG_ENCRYPTION_KEYS"]);

function withoutEmptyStrings(env: NodeJS.ProcessEnv): Record<string, string> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && value !== "") cleaned[key] = value;
  return cleaned;
}

/** Parses every flag once, at start; throws ERR_LG_INVALID_OPTION naming variable, value and what is accepted. */
export function checkpointerFlagsFromEnv(env: NodeJS.ProcessEnv = process.env): CheckpointerFlags {
  const cleaned = withoutEmptyStrings(env);
  const parsed = checkpointerEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    const value = cleaned[name];
    const shown = secretFlags.has(name) ? "(hidden)" : JSON.stringify(value ?? "");
    throw new LeangraphError(
      CheckpointerErrorCode.invalidOption,
      `Invalid environment variable ${name}=${shown}: expected ${issue.message}.`,
      // zod's error is left out for a secret: what it holds is not ours to vouch for.
      secretFlags.has(name) ? {} : { cause: parsed.error },
    );
  }
  const flags = parsed.data;
  // The serializer's own flags (LG_REDACTING_SERDE, LG_MAX_*) are validated by its schema, here,
  // so a typo there also fails at start.
  const serde = serdeOptionsFromEnv(cleaned);
  return {
    backend: flags.LG_CHECKPOINTER,
    sqlitePath: flags.LG_SQLITE_PATH,
    postgresUrl: flags.LG_POSTGRES_URL,
    postgresSchema: flags.LG_POSTGRES_SCHEMA,
    blobDir: flags.LG_BLOB_DIR,
    blobStore: flags.LG_BLOB_STORE ?? (flags.LG_CHECKPOINTER === "postgres" ? "postgres" : "fs"),
    redacting: serde.enabled,
    compression: serde.compression,
    retention:
      flags.LG_RETENTION_KEEP_LAST === undefined && flags.LG_RETENTION_MAX_AGE === undefined
        ? undefined
        : {
            keepLast: flags.LG_RETENTION_KEEP_LAST,
            maxAgeMs: flags.LG_RETENTION_MAX_AGE,
            sweepIntervalMs: flags.LG_RETENTION_SWEEP_INTERVAL,
          },
    encryptionKeys: flags.LG_ENCRYPTION_KEYS,
  };
}

/**
 * `LG_ENCRYPTION_KEYS` alone, validated as checkpointerFlagsFromEnv does: for tools (the CLI)
 * that open a saver themselves. Undefined when unset.
 */
export function encryptionKeysFromEnv(env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  const text = env.LG_ENCRYPTION_KEYS;
  if (text === undefined || text === "") return undefined;
  const parsed = checkpointerEnvSchema.shape.LG_ENCRYPTION_KEYS.safeParse(text);
  if (!parsed.success) {
    throw new LeangraphError(
      CheckpointerErrorCode.invalidOption,
      `Invalid environment variable LG_ENCRYPTION_KEYS=(hidden): expected ${parsed.error.issues[0]!.message}.`,
    );
  }
  return parsed.data;
}
