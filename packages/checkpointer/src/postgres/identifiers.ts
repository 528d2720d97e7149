import { LeangraphError } from "@leangraph/serde";
import { CheckpointerErrorCode } from "../errors.js";

export const schemaPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Schema names are spliced into SQL (identifiers cannot be bound), so they are validated here
 * once and then double-quoted.
 */
export function quotedSchema(schema: string): string {
  if (!schemaPattern.test(schema)) {
    throw new LeangraphError(
      CheckpointerErrorCode.invalidOption,
      `Postgres schema ${JSON.stringify(schema)} is not a plain identifier.`,
      {
        hint: "Use letters, digits and underscores, starting with a letter or underscore (max 63).",
      },
    );
  }
  return `"${schema}"`;
}
