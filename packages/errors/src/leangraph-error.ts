import type { LeangraphErrorCode } from "./codes.js";

export interface LeangraphErrorOptions {
  /** The error underneath (a driver's, the file system's, a step's own). */
  cause?: unknown;
  /** What the user can do about it, when there is something to say. */
  hint?: string;
}

/**
 * The one error class of leangraph: every error any leangraph package throws is one (or a
 * subclass, such as a worker's StepError, which adds where the step ran). It carries a stable
 * `code` (switch on it, never on message text), the underlying `cause`, and where it helps a
 * `hint` telling the user what to do.
 *
 * Each package depends on this one (never bundles a copy), so `instanceof` holds across packages
 * when npm or pnpm installs a single version of it.
 */
export class LeangraphError extends Error {
  readonly code: LeangraphErrorCode;
  readonly hint: string | undefined;

  constructor(code: LeangraphErrorCode, message: string, options: LeangraphErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LeangraphError";
    this.code = code;
    this.hint = options.hint;
  }
}
