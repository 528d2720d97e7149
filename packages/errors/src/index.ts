export * from "./codes.js";
export { LeangraphError, type LeangraphErrorOptions } from "./leangraph-error.js";
export {
  acceptedMemoryPreset,
  isMemoryPresetName,
  MEMORY_PRESET_NAMES,
  MEMORY_PRESETS,
  type MemoryPreset,
  type MemoryPresetName,
  memoryPresetFromEnv,
} from "./memory-presets.js";
export {
  isEnvironment,
  type OptionIssue,
  type OptionsSchema,
  parseOptions,
} from "./parse-options.js";
