import { LeangraphError } from "@leangraph/serde";

/** Stable codes raised by the `leangraph` CLI; tests and scripts switch on these, never on text. */
export const CliErrorCode = {
  /** Unknown command or flag, a missing argument, or a flag given twice where once is allowed. */
  usage: "ERR_LG_CLI_USAGE",
  /** A flag or argument whose value is not accepted (same code as every other leangraph option). */
  invalidOption: "ERR_LG_INVALID_OPTION",
  /** The database file or schema named on the command line holds no checkpoint tables. */
  databaseNotFound: "ERR_LG_CLI_DATABASE_NOT_FOUND",
  /** The database is of a kind this command does not take (e.g. `verify` on a stock database). */
  wrongDatabaseKind: "ERR_LG_CLI_WRONG_DATABASE_KIND",
  /** A driver or stock saver package this database needs is not installed. */
  driverMissing: "ERR_LG_CLI_DRIVER_MISSING",
  /** An imported thread reads back different from its source. */
  importMismatch: "ERR_LG_CLI_IMPORT_MISMATCH",
  /** Stopped by SIGINT at a safe point. */
  interrupted: "ERR_LG_CLI_INTERRUPTED",
} as const;

export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

export function usageError(message: string, hint?: string): LeangraphError {
  return new LeangraphError(CliErrorCode.usage, message, hint === undefined ? {} : { hint });
}

/** Names the argument, the value received and what is accepted. */
export function invalidArgumentError(
  argument: string,
  value: unknown,
  accepted: string,
): LeangraphError {
  return new LeangraphError(
    CliErrorCode.invalidOption,
    `${argument} ${JSON.stringify(value)} is not accepted: expected ${accepted}.`,
  );
}

export function interruptedError(): LeangraphError {
  return new LeangraphError(
    CliErrorCode.interrupted,
    "Interrupted (Ctrl-C) at a safe point; nothing is half-written.",
  );
}
