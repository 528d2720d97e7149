import { SharedErrorCode } from "./codes.js";
import { LeangraphError } from "./leangraph-error.js";

/** One problem a schema found; the shape zod 4 reports (this package does not depend on zod). */
export interface OptionIssue {
  readonly path: readonly PropertyKey[];
  /** What is accepted, e.g. "a whole number from 0 to 60000". */
  readonly message: string;
  readonly code?: string;
  /** For `unrecognized_keys`: the option names nobody declared. */
  readonly keys?: readonly string[];
}

/** Any schema with zod's `safeParse` (a strict `z.object(…)` is what every caller passes). */
export interface OptionsSchema<Output> {
  safeParse(
    input: unknown,
  ):
    | { success: true; data: Output }
    | { success: false; error: { readonly issues: readonly OptionIssue[] } };
}

/**
 * Validates the options of a public constructor or factory at the edge, once, so code below trusts
 * typed values. On failure it throws ERR_LG_INVALID_OPTION naming every rejected option, the value
 * it received and what is accepted; an unknown option (a typo) names the options that exist.
 *
 * @param subject how the user called it, e.g. `new LeanSqliteSaver(db, options)`.
 */
export function parseOptions<Output>(
  schema: OptionsSchema<Output>,
  input: unknown,
  subject: string,
): Output {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => describeIssue(schema, input, issue));
  return throwInvalid(subject, problems, parsed.error);
}

function throwInvalid(subject: string, problems: string[], cause: unknown): never {
  throw new LeangraphError(
    SharedErrorCode.invalidOption,
    `Invalid options for ${subject}: ${problems.join("; ")}.`,
    { cause },
  );
}

function describeIssue(schema: unknown, input: unknown, issue: OptionIssue): string[] {
  if (issue.code === "unrecognized_keys" && issue.keys !== undefined) {
    const declared = declaredKeysAt(schema, issue.path);
    const known = declared === undefined ? "" : ` (known options: ${declared.join(", ")})`;
    return issue.keys.map(
      (key) =>
        `${nameOf([...issue.path, key])}=${show(valueAt(input, [...issue.path, key]))} is not an option${known}`,
    );
  }
  const accepted = issue.message.replace(/^Invalid input: /, "").replace(/^expected /, "");
  if (issue.path.length === 0) {
    return [`the options argument ${show(input)} is not accepted: expected ${accepted}`];
  }
  const value = valueAt(input, issue.path);
  const received = value === undefined ? " is missing" : `=${show(value)} is not accepted`;
  return [`${nameOf(issue.path)}${received}: expected ${accepted}`];
}

function nameOf(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : `${index > 0 ? "." : ""}${String(segment)}`,
    )
    .join("");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/**
 * The option names a zod object schema declares at `path`, found through the `shape` of each
 * object and `unwrap()` of optional/default wrappers; undefined when the schema hides them
 * (a pipe or a refinement), in which case the message just omits the list.
 */
function declaredKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] | undefined {
  let node = unwrapped(schema);
  for (const segment of path) {
    const shape = shapeOf(node);
    if (shape === undefined) return undefined;
    node = unwrapped(shape[String(segment)]);
  }
  const shape = shapeOf(node);
  return shape === undefined ? undefined : Object.keys(shape);
}

function shapeOf(node: unknown): Record<string, unknown> | undefined {
  const shape = (node as { shape?: unknown } | undefined)?.shape;
  return shape !== null && typeof shape === "object"
    ? (shape as Record<string, unknown>)
    : undefined;
}

function unwrapped(node: unknown): unknown {
  let current = node;
  for (let depth = 0; depth < 8; depth++) {
    const unwrap = (current as { unwrap?: unknown } | undefined)?.unwrap;
    if (typeof unwrap !== "function" || shapeOf(current) !== undefined) return current;
    current = unwrap.call(current);
  }
  return current;
}

const shownChars = 80;

/** A value as the user would recognise it in a message, never the whole of a big one. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > shownChars ? `${value.slice(0, shownChars)}…` : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return value.toString();
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    return `a ${(value as object).constructor?.name ?? "object"}`;
  }
  try {
    const text = JSON.stringify(value);
    return text.length > shownChars ? `${text.slice(0, shownChars)}…` : text;
  } catch {
    // A cycle or a BigInt inside: the message still names the option, just not the whole value.
    return "an object";
  }
}

/**
 * True for an environment object: `process.env` itself (whose prototype makes it no plain
 * object, so a record schema refuses it) or any object whose values are strings or undefined.
 */
export function isEnvironment(value: unknown): value is NodeJS.ProcessEnv {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((entry) => entry === undefined || typeof entry === "string");
}
