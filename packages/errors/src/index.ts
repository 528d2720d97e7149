export * from "./codes.js";
export { LeangraphError, type LeangraphErrorOptions } from "./leangraph-error.js";
export {
  isEnvironment,
  type OptionIssue,
  type OptionsSchema,
  parseOptions,
} from "./parse-options.js";
