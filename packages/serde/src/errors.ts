/*
 * The error type and codes live in @leangraph/errors, declared once for every package; this
 * package re-exports them so `import { LeangraphError } from "@leangraph/serde"` keeps working.
 */
export { LeangraphError, type LeangraphErrorOptions, SerdeErrorCode } from "@leangraph/errors";
