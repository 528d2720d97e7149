import { invalidArgumentError } from "../errors.js";

/** Where a database is: a SQLite file, or a Postgres database and the schema holding the tables. */
export type DatabaseTarget =
  | { backend: "sqlite"; path: string }
  | { backend: "postgres"; url: string; schema: string };

const postgresUrlPattern = /^postgres(?:ql)?:\/\//i;
const schemaPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function isPostgresUrl(text: string): boolean {
  return postgresUrlPattern.test(text);
}

/** A Postgres URL without its password, for messages and reports. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.backend === "sqlite") return target.path;
  let shown = target.url;
  try {
    const url = new URL(target.url);
    if (url.password) url.password = "***";
    shown = url.toString();
  } catch {
    // Not parseable as a URL: pg will say so when connecting; show it as given.
  }
  return target.schema === "public" ? shown : `${shown} (schema ${target.schema})`;
}

/**
 * `postgres://…` / `postgresql://…` is a Postgres database; anything else is a SQLite file path.
 * `schemaFlag` names the flag a schema came from, so an error can point at it.
 */
export function parseDatabaseTarget(
  argument: string,
  text: string,
  schema: string | undefined,
  schemaFlag: string,
): DatabaseTarget {
  if (text.trim() === "") {
    throw invalidArgumentError(argument, text, "a SQLite file path or a postgres:// URL");
  }
  if (!isPostgresUrl(text)) {
    if (schema !== undefined) {
      throw invalidArgumentError(schemaFlag, schema, `no schema: ${argument} is a SQLite file`);
    }
    return { backend: "sqlite", path: text };
  }
  const resolvedSchema = schema ?? "public";
  if (!schemaPattern.test(resolvedSchema)) {
    throw invalidArgumentError(
      schemaFlag,
      resolvedSchema,
      "a plain identifier: letters, digits and underscores, starting with a letter or underscore, at most 63",
    );
  }
  return { backend: "postgres", url: text, schema: resolvedSchema };
}
