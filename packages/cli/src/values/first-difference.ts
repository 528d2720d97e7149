/**
 * Where two decoded values first differ (a path like `checkpoint.channel_values.files[3]`), or
 * undefined when they are equal. Equality is on data, as a round trip through JSON sees it: same
 * class (constructor name) for objects (any Uint8Array counts as bytes), same own enumerable properties with `undefined` ones
 * treated as absent, same elements in order, same bytes, same Map/Set entries. Strings are
 * compared whole (a 200 KB file is one `===`).
 */
export function firstDifference(a: unknown, b: unknown, path = ""): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
    return `${path || "(root)"}: ${describe(a)} vs ${describe(b)}`;
  }
  const left = a as object;
  const right = b as object;
  // Bytes are bytes: a Buffer (a Uint8Array subclass, what Node APIs hand out) equals a plain
  // Uint8Array holding the same bytes.
  if (left instanceof Uint8Array && right instanceof Uint8Array) {
    return Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(right)
      ? undefined
      : `${path}: bytes differ`;
  }
  if (left.constructor?.name !== right.constructor?.name) {
    return `${path || "(root)"}: ${left.constructor?.name} vs ${right.constructor?.name}`;
  }
  if (left instanceof Date) {
    return left.getTime() === (right as Date).getTime() ? undefined : `${path}: dates differ`;
  }
  if (Array.isArray(left)) {
    const other = right as unknown[];
    if (left.length !== other.length) return `${path}: length ${left.length} vs ${other.length}`;
    for (let index = 0; index < left.length; index += 1) {
      const found = firstDifference(left[index], other[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (left instanceof Map) {
    const other = right as Map<unknown, unknown>;
    if (left.size !== other.size) return `${path}: ${left.size} vs ${other.size} entries`;
    for (const [key, value] of left) {
      if (!other.has(key)) return `${path}: key ${describe(key)} missing`;
      const found = firstDifference(value, other.get(key), `${path}[${describe(key)}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (left instanceof Set) {
    return firstDifference([...left], [...(right as Set<unknown>)], path);
  }
  const leftKeys = definedKeys(left);
  const rightKeys = definedKeys(right);
  for (const key of new Set([...leftKeys, ...rightKeys])) {
    const found = firstDifference(
      (left as Record<string, unknown>)[key],
      (right as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

function definedKeys(value: object): string[] {
  return Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
}

function describe(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 40 ? `string of ${value.length} chars` : JSON.stringify(value);
  }
  if (value === undefined) return "absent";
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "object";
  return String(value);
}
