/**
 * Reading the Node/V8 options a process was started with: the command line's `process.execArgv`
 * and the `NODE_OPTIONS` environment variable, the two places a heap cap such as
 * `--max-old-space-size` can come from.
 */

/**
 * Splits a NODE_OPTIONS value the way Node does: on whitespace, with double quotes grouping a
 * value that holds spaces and a backslash escaping the next character inside quotes
 * (`--require "./my file.js"`).
 */
export function splitNodeOptions(text: string): string[] {
  const args: string[] = [];
  let current = "";
  let inQuotes = false;
  let started = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (inQuotes && char === "\\" && index + 1 < text.length) {
      current += text[++index];
    } else if (char === '"') {
      inQuotes = !inQuotes;
      started = true;
    } else if (!inQuotes && /\s/.test(char)) {
      if (started) args.push(current);
      current = "";
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}

/** V8 spells a flag with `-` or `_` interchangeably: `--max-old-space-size`, `--max_old_space_size`. */
function flagName(arg: string): string {
  return arg.replace(/^--/, "").replaceAll("_", "-");
}

/**
 * The value of a `--name=value` flag as the process sees it: NODE_OPTIONS first, then the command
 * line, the last occurrence winning (Node applies the command line after NODE_OPTIONS, and V8
 * keeps the last value it is given). V8 only accepts the `=` form for its numeric flags
 * (`--max-old-space-size 64` is "bad option"), so that is the only form read.
 */
export function nodeFlagValue(
  name: string,
  sources: { execArgv: readonly string[]; nodeOptions: string | undefined },
): string | undefined {
  const wanted = flagName(name);
  let value: string | undefined;
  for (const arg of [...splitNodeOptions(sources.nodeOptions ?? ""), ...sources.execArgv]) {
    const equals = arg.indexOf("=");
    if (!arg.startsWith("--") || equals < 0) continue;
    if (flagName(arg.slice(0, equals)) === wanted) value = arg.slice(equals + 1);
  }
  return value;
}

/** A flag's value as a whole number of MB, or undefined when absent or not a plain number. */
export function nodeFlagMb(
  name: string,
  sources: { execArgv: readonly string[]; nodeOptions: string | undefined },
): number | undefined {
  const value = nodeFlagValue(name, sources);
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}
