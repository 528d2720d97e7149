/**
 * One cheap walk that finds what a RedactingSerializer would refuse (functions, symbols, bigints,
 * cycles) before any serializer call of a put. The serializer checks a value completely before it
 * writes blobs, but the codec calls it once per array element (and once per channel), so without
 * this walk a function in element 2 is found only after element 0's blob was written: the put
 * fails and leaves an unreferenced blob behind.
 *
 * The walk mirrors the serializer's view of a value (toJSON first, Set/Map as their entries, Send
 * as node/args/timeout, leaves it never descends into), so it rejects nothing the serializer
 * accepts.
 */
import { DeltaSnapshot } from "@langchain/langgraph-checkpoint";

export interface Unstorable {
  /** Where, as `root[2].content` (numbers are array or Set/Map positions). */
  path: string;
  /** What was found: "a function", "a symbol", "a bigint", "a circular structure". */
  what: string;
}

interface Frame {
  value: unknown;
  key: string | number;
  parent: Frame | undefined;
  /** Set once the frame's object is on the ancestor path; popping it again removes it. */
  entered?: object;
}

const identifier = /^[A-Za-z_$][\w$]*$/;

function pathOf(frame: Frame, root: string): string {
  const keys: (string | number)[] = [];
  for (let at: Frame | undefined = frame; at?.parent !== undefined; at = at.parent)
    keys.push(at.key);
  let path = root;
  for (const key of keys.reverse()) {
    if (typeof key === "number") path += `[${key}]`;
    else path += identifier.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
}

/** Children the serializer would encode, or undefined for a leaf it stores as is. */
function childrenOf(object: object): [string | number, unknown][] | undefined {
  if (object instanceof DeltaSnapshot) return [["value", object.value]];
  if (object instanceof Set || object instanceof Map)
    return Array.from(object as Iterable<unknown>, (entry, index) => [index, entry]);
  if (
    object instanceof RegExp ||
    object instanceof Error ||
    object instanceof Uint8Array ||
    object instanceof Number ||
    object instanceof String ||
    object instanceof Boolean
  ) {
    return undefined;
  }
  if ((object as { lg_name?: unknown }).lg_name === "Send") {
    const send = object as { node: unknown; args: unknown; timeout?: unknown };
    return [
      ["node", send.node],
      ["args", send.args],
      ["timeout", send.timeout],
    ];
  }
  if (Array.isArray(object)) return object.map((element, index) => [index, element]);
  return Object.keys(object).map((key) => [key, (object as Record<string, unknown>)[key]]);
}

/**
 * The first part of `value` the serializer cannot store losslessly, or undefined. Iterative, so
 * nesting depth never reaches the JS stack; `root` names the value in the returned path.
 */
export function findUnstorable(value: unknown, root: string): Unstorable | undefined {
  const ancestors = new Set<object>();
  const stack: Frame[] = [{ value, key: "", parent: undefined }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.entered !== undefined) {
      ancestors.delete(frame.entered);
      continue;
    }
    let current = frame.value;
    if (typeof current === "object" && current !== null) {
      const toJSON = (current as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") current = toJSON.call(current, String(frame.key));
    }
    switch (typeof current) {
      case "function":
        return { path: pathOf(frame, root), what: "a function" };
      case "symbol":
        return { path: pathOf(frame, root), what: "a symbol" };
      case "bigint":
        return { path: pathOf(frame, root), what: "a bigint" };
      case "object":
        break;
      default:
        continue;
    }
    if (current === null) continue;
    if (ancestors.has(current)) return { path: pathOf(frame, root), what: "a circular structure" };
    const children = childrenOf(current);
    if (children === undefined || children.length === 0) continue;
    ancestors.add(current);
    frame.entered = current;
    stack.push(frame);
    // Reversed so the first element is checked first and reported first.
    for (let index = children.length - 1; index >= 0; index -= 1) {
      const [key, child] = children[index]!;
      // Strings, numbers, booleans, null and undefined are always storable: no frame needed.
      if ((typeof child !== "object" || child === null) && typeof child !== "function") {
        if (typeof child !== "symbol" && typeof child !== "bigint") continue;
      }
      stack.push({ value: child, key, parent: frame });
    }
  }
  return undefined;
}
