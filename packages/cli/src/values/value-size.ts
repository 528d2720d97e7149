import { createHash } from "node:crypto";

/** A value at least `minBytes` big none of whose parts is: what the report lists. */
export interface LargeValue {
  /** Where it sits in the channel's value: `files[17]`, `messages[41].content`. */
  path: string;
  bytes: number;
  /** Content hash, so the same value stored in many checkpoints is counted as copies of one. */
  hash: string;
}

const identifierPattern = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Deeper than this a value is measured whole (JSON) and not walked: state is rarely this deep. */
const maxWalkDepth = 200;

function keyPath(path: string, key: string): string {
  return identifierPattern.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function hashOf(value: unknown): string {
  const hash = createHash("sha256");
  if (typeof value === "string") hash.update("s").update(value);
  else if (value instanceof Uint8Array) hash.update("b").update(value);
  else
    hash
      .update("j")
      .update(
        JSON.stringify(value, (_key, inner) => (typeof inner === "bigint" ? `${inner}n` : inner)) ??
          "",
      );
  return hash.digest("base64url");
}

function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(
      JSON.stringify(value, (_key, inner) => (typeof inner === "bigint" ? String(inner) : inner)) ??
        "null",
    );
  } catch {
    // A cycle: decoded checkpoint values cannot hold one, but a walk must not die on it.
    return 0;
  }
}

interface LangChainSerialized {
  lc: number;
  type: string;
  id: string[];
  kwargs?: Record<string, unknown>;
}

function isLangChainSerialized(value: unknown): value is LangChainSerialized {
  return (
    typeof value === "object" &&
    value !== null &&
    "lc" in value &&
    "type" in value &&
    (value as { type: unknown }).type === "constructor"
  );
}

/**
 * The size a decoded value takes when serialized as JSON, about (escapes are not counted), and
 * the large values inside it with their path. LangChain objects (messages) are walked through
 * their serialized `kwargs`, so a message's text shows as `messages[41].content`, the way the
 * user wrote it, not `messages[41].kwargs.content`.
 *
 * Reported are the deepest values of at least `minBytes`: a 200 KB string inside a message is
 * reported, not also the message around it; an array of many small strings is reported whole.
 */
export function measureValue(
  value: unknown,
  path: string,
  minBytes: number,
  onLarge: (found: LargeValue) => void,
): number {
  const ancestors = new Set<object>();
  const visit = (
    current: unknown,
    currentPath: string,
    depth: number,
  ): { bytes: number; reported: boolean } => {
    const leaf = (bytes: number, content: unknown) => {
      if (bytes < minBytes) return { bytes, reported: false };
      onLarge({ path: currentPath, bytes, hash: hashOf(content) });
      return { bytes, reported: true };
    };
    if (current === null || current === undefined) return { bytes: 4, reported: false };
    switch (typeof current) {
      case "string":
        return leaf(Buffer.byteLength(current) + 2, current);
      case "number":
      case "boolean":
      case "bigint":
        return { bytes: String(current).length, reported: false };
      case "function":
      case "symbol":
        return { bytes: 0, reported: false };
    }
    if (current instanceof Uint8Array) return leaf(current.byteLength, current);
    if (current instanceof Date) return { bytes: 26, reported: false };
    if (ancestors.has(current as object) || depth > maxWalkDepth) {
      return leaf(jsonBytes(current), current);
    }
    ancestors.add(current as object);
    try {
      let bytes = 2;
      let reported = false;
      const child = (inner: unknown, innerPath: string, overhead: number) => {
        const result = visit(inner, innerPath, depth + 1);
        bytes += result.bytes + overhead;
        reported ||= result.reported;
      };
      if (Array.isArray(current) || current instanceof Set) {
        let index = 0;
        for (const element of current) child(element, `${currentPath}[${index++}]`, 1);
      } else if (current instanceof Map) {
        for (const [key, element] of current)
          child(element, `${currentPath}[${JSON.stringify(key)}]`, jsonBytes(key) + 2);
      } else {
        let shape: object = current as object;
        const toJSON = (current as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === "function") {
          shape = toJSON.call(current) as object;
          if (typeof shape !== "object" || shape === null) return leaf(jsonBytes(shape), shape);
        }
        if (isLangChainSerialized(shape) && shape.kwargs !== undefined) {
          bytes += jsonBytes({ ...shape, kwargs: undefined });
          shape = shape.kwargs;
        }
        for (const [key, inner] of Object.entries(shape)) {
          if (inner === undefined) continue;
          child(inner, keyPath(currentPath, key), Buffer.byteLength(key) + 4);
        }
      }
      if (!reported && bytes >= minBytes) return leaf(bytes, current);
      return { bytes, reported };
    } finally {
      ancestors.delete(current as object);
    }
  };
  return visit(value, path, 0).bytes;
}
