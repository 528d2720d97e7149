import { LeangraphError } from "@leangraph/serde";
import { type DatabaseTarget, describeTarget } from "../arguments/database-target.js";
import { CliErrorCode } from "../errors.js";
import { createReadOnlyPool, openSqliteReadOnly, sqliteFileExists } from "./connections.js";

/** Which checkpoint tables a database holds; a Postgres schema may hold both kinds. */
export interface DatabaseContents {
  exists: boolean;
  /** SqliteSaver: `checkpoints` + `writes`; PostgresSaver: `checkpoints` + `checkpoint_blobs` + … */
  stock: boolean;
  /** LeanSqliteSaver / LeanPostgresSaver: `lg_checkpoints` (+ `lg_writes`, `lg_items`). */
  lean: boolean;
}

export type DatabaseKind = "stock" | "lean";

export async function detectContents(target: DatabaseTarget): Promise<DatabaseContents> {
  if (target.backend === "sqlite") {
    if (!sqliteFileExists(target.path)) return { exists: false, stock: false, lean: false };
    const db = await openSqliteReadOnly(target.path);
    try {
      let names: Set<string>;
      try {
        names = new Set(
          (
            db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
              name: string;
            }[]
          ).map((row) => row.name),
        );
      } catch (error) {
        throw new LeangraphError(
          CliErrorCode.invalidOption,
          `<database> ${JSON.stringify(target.path)} is not accepted: expected a SQLite database file (${(error as Error).message}).`,
          { cause: error },
        );
      }
      return {
        exists: true,
        stock: names.has("checkpoints") && names.has("writes"),
        lean: names.has("lg_checkpoints"),
      };
    } finally {
      db.close();
    }
  }
  const pool = await createReadOnlyPool(target.url, 1);
  try {
    const { rows } = await pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [target.schema],
    );
    const names = new Set(rows.map((row) => row.table_name));
    return {
      exists: names.size > 0,
      stock: names.has("checkpoints") && names.has("checkpoint_blobs"),
      lean: names.has("lg_checkpoints"),
    };
  } finally {
    await pool.end();
  }
}

/**
 * The one kind a command works on, or a coded error naming the argument, what it holds and what
 * is accepted. `preferred` settles a Postgres schema that holds both kinds.
 */
export async function requireKind(
  argument: string,
  target: DatabaseTarget,
  accepted: readonly DatabaseKind[],
  preferred?: DatabaseKind,
): Promise<DatabaseKind> {
  const contents = await detectContents(target);
  const found: DatabaseKind[] = [];
  if (contents.stock) found.push("stock");
  if (contents.lean) found.push("lean");
  const shown = `${argument} ${describeTarget(target)}`;
  const acceptedText = accepted.map((kind) => `a ${kind} checkpoint database`).join(" or ");
  if (found.length === 0) {
    throw new LeangraphError(
      CliErrorCode.databaseNotFound,
      contents.exists
        ? `${shown} holds no checkpoint tables: expected ${acceptedText}.`
        : `${shown} does not exist: expected ${acceptedText}.`,
      {
        hint:
          target.backend === "postgres"
            ? "Check the URL and --schema (the savers' default schema is public)."
            : "Check the path.",
      },
    );
  }
  const usable = found.filter((kind) => accepted.includes(kind));
  if (usable.length === 0) {
    throw new LeangraphError(
      CliErrorCode.wrongDatabaseKind,
      `${shown} is a ${found.join(" and ")} checkpoint database: expected ${acceptedText}.`,
      {
        hint: found.includes("stock")
          ? "Move it into a lean store first: leangraph import --from <stock> --to <lean>."
          : undefined,
      },
    );
  }
  if (usable.length > 1 && preferred !== undefined && usable.includes(preferred)) return preferred;
  return usable[0]!;
}
