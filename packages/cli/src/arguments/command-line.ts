import { resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { invalidArgumentError, usageError } from "../errors.js";
import { type DatabaseTarget, parseDatabaseTarget } from "./database-target.js";
import { parseDurationMs } from "./duration.js";
import { parseWholeNumber } from "./whole-number.js";

/** How the CLI opens a lean store's blobs; see `openLeanSaver`. */
export interface LeanStoreOptions {
  /** Postgres only: blobs in the database (default) or in a directory. SQLite always uses a directory. */
  blobStore: "fs" | "postgres";
  /** SQLite default: `<db file>.blobs`; Postgres with `--blob-store fs`: required. */
  blobDir: string | undefined;
}

interface Common {
  json: boolean;
}

export type Command =
  | { name: "help"; topic: string | undefined }
  | { name: "version" }
  | (Common & {
      name: "inspect";
      database: DatabaseTarget;
      lean: LeanStoreOptions;
      top: number;
      kind: "stock" | "lean" | undefined;
    })
  | (Common & {
      name: "import";
      from: DatabaseTarget;
      to: DatabaseTarget;
      lean: LeanStoreOptions;
    })
  | (Common & { name: "verify"; database: DatabaseTarget; lean: LeanStoreOptions })
  | (Common & { name: "compact"; database: DatabaseTarget; lean: LeanStoreOptions })
  | (Common & {
      name: "stats";
      database: DatabaseTarget;
      lean: LeanStoreOptions;
      kind: "stock" | "lean" | undefined;
    })
  | (Common & {
      name: "gc";
      database: DatabaseTarget;
      lean: LeanStoreOptions;
      graceMs: number;
      dryRun: boolean;
    })
  | (Common & {
      name: "rekey";
      database: DatabaseTarget;
      lean: LeanStoreOptions;
      adoptPlaintext: boolean;
    })
  | (Common & {
      name: "prune";
      database: DatabaseTarget;
      lean: LeanStoreOptions;
      keepLast: number | undefined;
      maxAgeMs: number | undefined;
      threadIds: string[] | undefined;
      dryRun: boolean;
    });

export type CommandName = Exclude<Command["name"], "help" | "version">;

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

const jsonOption: OptionSpec = { json: { type: "boolean" }, help: { type: "boolean", short: "h" } };
const leanStoreOptions: OptionSpec = {
  schema: { type: "string" },
  "blob-store": { type: "string" },
  "blob-dir": { type: "string" },
};

const commandOptions: Record<CommandName, OptionSpec> = {
  inspect: {
    ...jsonOption,
    ...leanStoreOptions,
    top: { type: "string" },
    kind: { type: "string" },
  },
  import: {
    ...jsonOption,
    from: { type: "string" },
    to: { type: "string" },
    "from-schema": { type: "string" },
    "to-schema": { type: "string" },
    "blob-store": { type: "string" },
    "blob-dir": { type: "string" },
  },
  verify: { ...jsonOption, ...leanStoreOptions },
  compact: { ...jsonOption, ...leanStoreOptions },
  stats: { ...jsonOption, ...leanStoreOptions, kind: { type: "string" } },
  gc: {
    ...jsonOption,
    ...leanStoreOptions,
    grace: { type: "string" },
    "dry-run": { type: "boolean" },
  },
  rekey: { ...jsonOption, ...leanStoreOptions, "adopt-plaintext": { type: "boolean" } },
  prune: {
    ...jsonOption,
    ...leanStoreOptions,
    "keep-last": { type: "string" },
    "older-than": { type: "string" },
    thread: { type: "string", multiple: true },
    "dry-run": { type: "boolean" },
  },
};

/** Positional arguments each command takes, by name (for messages). */
const commandPositionals: Record<CommandName, string[]> = {
  inspect: ["<database>"],
  import: [],
  verify: ["<database>"],
  compact: ["<database>"],
  stats: ["<database>"],
  gc: ["<database>"],
  prune: ["<database>"],
  rekey: ["<database>"],
};

export const commandNames = Object.keys(commandOptions) as CommandName[];

function isCommandName(text: string): text is CommandName {
  return (commandNames as string[]).includes(text);
}

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * argv (without node and the script) → one validated command. Everything a command needs is
 * checked here, before any database is opened: a bad flag never leaves work half done.
 */
export function parseCommandLine(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    return { name: "help", topic: first === "help" ? rest[0] : undefined };
  }
  if (first === "--version" || first === "-v") return { name: "version" };
  if (!isCommandName(first)) {
    throw usageError(
      `Unknown command ${JSON.stringify(first)}: expected one of ${commandNames.join(", ")}.`,
      "Run `leangraph --help` for usage.",
    );
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...rest],
      options: commandOptions[first],
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    // node:util's messages name the flag ("Unknown option '--keep'"); keep them, add our code.
    throw usageError(
      `leangraph ${first}: ${(error as Error).message}`,
      `Run \`leangraph help ${first}\`.`,
    );
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { name: "help", topic: first };
  const expected = commandPositionals[first];
  if (positionals.length !== expected.length) {
    throw usageError(
      `leangraph ${first} takes ${expected.length === 0 ? "no positional arguments" : expected.join(" ")}; got ${positionals.length === 0 ? "none" : positionals.map((p) => JSON.stringify(p)).join(" ")}.`,
      `Run \`leangraph help ${first}\`.`,
    );
  }
  const json = values.json === true;
  switch (first) {
    case "import": {
      const fromText = requireString(values, "from", first);
      const toText = requireString(values, "to", first);
      const from = parseDatabaseTarget(
        "--from",
        fromText,
        string(values, "from-schema"),
        "--from-schema",
      );
      const to = parseDatabaseTarget("--to", toText, string(values, "to-schema"), "--to-schema");
      if (sameDatabase(from, to)) {
        throw invalidArgumentError("--to", toText, "a database other than --from");
      }
      return { name: first, json, from, to, lean: leanStore(values, to) };
    }
    default: {
      const database = parseDatabaseTarget(
        "<database>",
        positionals[0]!,
        string(values, "schema"),
        "--schema",
      );
      const lean = leanStore(values, database);
      switch (first) {
        case "inspect": {
          const topText = string(values, "top");
          const top = topText === undefined ? 10 : parseWholeNumber("--top", topText, 1, 1000);
          return { name: first, json, database, lean, top, kind: kindOf(values) };
        }
        case "stats":
          return { name: first, json, database, lean, kind: kindOf(values) };
        case "verify":
        case "compact":
          return { name: first, json, database, lean };
        case "gc": {
          const graceText = string(values, "grace");
          const graceMs =
            graceText === undefined ? 3_600_000 : parseDurationMs("--grace", graceText);
          return { name: first, json, database, lean, graceMs, dryRun: values["dry-run"] === true };
        }
        case "prune":
          return { name: first, json, database, lean, ...pruneOptions(values) };
        case "rekey":
          return {
            name: first,
            json,
            database,
            lean,
            adoptPlaintext: values["adopt-plaintext"] === true,
          };
      }
    }
  }
}

function pruneOptions(values: Values) {
  const keepLastText = string(values, "keep-last");
  const olderThanText = string(values, "older-than");
  if (keepLastText === undefined && olderThanText === undefined) {
    throw usageError(
      "leangraph prune needs --keep-last N, --older-than DURATION, or both.",
      "Example: leangraph prune db.sqlite --keep-last 20 --older-than 30d --dry-run",
    );
  }
  const keepLast =
    keepLastText === undefined
      ? undefined
      : parseWholeNumber("--keep-last", keepLastText, 0, 1_000_000_000);
  const maxAgeMs =
    olderThanText === undefined ? undefined : parseDurationMs("--older-than", olderThanText);
  const threads = values.thread as string[] | undefined;
  for (const threadId of threads ?? []) {
    if (threadId === "") throw invalidArgumentError("--thread", threadId, "a non-empty thread id");
  }
  return {
    keepLast,
    maxAgeMs,
    threadIds: threads === undefined ? undefined : [...new Set(threads)],
    dryRun: values["dry-run"] === true,
  };
}

function leanStore(values: Values, target: DatabaseTarget): LeanStoreOptions {
  const blobStoreText = string(values, "blob-store");
  const blobDir = string(values, "blob-dir");
  if (blobDir !== undefined && blobDir.trim() === "") {
    throw invalidArgumentError("--blob-dir", blobDir, "a directory path");
  }
  if (target.backend === "sqlite") {
    if (blobStoreText !== undefined && blobStoreText !== "fs") {
      throw invalidArgumentError(
        "--blob-store",
        blobStoreText,
        "fs (a SQLite database keeps its blobs in a directory)",
      );
    }
    return { blobStore: "fs", blobDir };
  }
  if (blobStoreText !== undefined && blobStoreText !== "fs" && blobStoreText !== "postgres") {
    throw invalidArgumentError("--blob-store", blobStoreText, "fs or postgres");
  }
  const blobStore = blobStoreText === "fs" ? "fs" : "postgres";
  if (blobStore === "postgres" && blobDir !== undefined) {
    throw invalidArgumentError("--blob-dir", blobDir, "no directory unless --blob-store fs");
  }
  if (blobStore === "fs" && blobDir === undefined) {
    // No default here on purpose: gc deletes every blob in that directory that no row names, so
    // a guessed directory could be someone else's.
    throw usageError(
      "--blob-store fs needs --blob-dir DIR (the directory your saver writes blobs to).",
    );
  }
  return { blobStore, blobDir };
}

/** Which tables to read when a Postgres schema holds both a stock and a lean database. */
function kindOf(values: Values): "stock" | "lean" | undefined {
  const kind = string(values, "kind");
  if (kind === undefined || kind === "stock" || kind === "lean") return kind;
  throw invalidArgumentError("--kind", kind, "stock or lean");
}

function string(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

function requireString(values: Values, name: string, command: string): string {
  const value = string(values, name);
  if (value === undefined) {
    throw usageError(`leangraph ${command} needs --${name}.`, `Run \`leangraph help ${command}\`.`);
  }
  return value;
}

/** Stock and lean tables have different names, so one Postgres schema may hold both. */
function sameDatabase(a: DatabaseTarget, b: DatabaseTarget): boolean {
  return a.backend === "sqlite" && b.backend === "sqlite" && resolve(a.path) === resolve(b.path);
}
