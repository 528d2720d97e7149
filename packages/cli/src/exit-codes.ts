/**
 * What `leangraph` exits with. Scripts switch on these; they are part of the CLI's contract.
 * 130 is what shells report for a process ended by SIGINT, so `leangraph … || handle` treats a
 * Ctrl-C the way it treats any interrupted command.
 */
export const ExitCode = {
  /** Done; nothing wrong found. */
  ok: 0,
  /** Problems found (verify: damage; import: a thread differs) or the operation failed. */
  failed: 1,
  /** Bad usage: unknown command or flag, a value not accepted, a database that is not there. */
  usage: 2,
  /** Stopped by Ctrl-C (SIGINT) at a safe point; nothing is half-written, rerun to continue. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
