/*
 * The demo raises the one leangraph error type, with codes declared in @leangraph/errors
 * (DemoErrorCode), so the CLI can print a useful line and tests can switch on `code`.
 */
export { DemoErrorCode, LeangraphError } from "@leangraph/errors";
