/**
 * Tells, without serializing, that an array element object is in exactly the state it was in
 * when it was last serialized, so its stored entry can be reused.
 *
 * Why: LangGraph puts a chat state's whole `messages` array at every step. Serializing a
 * LangChain message (its `toJSON`, then the serializer's walk and JSON) costs several µs, so a
 * 300-message conversation spent most of each put re-serializing messages that had not changed.
 * Comparing a message against a snapshot of its fields is several times cheaper.
 *
 * Safety: the snapshot is a deep copy of what serialization reads, taken just before the
 * serializer call, and reuse needs the same prototype, the same own keys in the same order and
 * equal values all the way down. Anything whose serialized form could depend on state the
 * comparison does not see makes the element ineligible, and it is serialized every time:
 * - nested values must be plain data: primitives, plain arrays, plain objects (no class instances,
 *   Dates, Maps, typed arrays, functions, symbols, bigints);
 * - at the top, besides plain data, only @langchain/core's own message classes are accepted. Their
 *   `toJSON` reads own enumerable data properties (the `lc_kwargs` keys) and prototype getters
 *   that return constants (`lc_aliases`, `lc_id`, `lc_secrets`, `lc_attributes`); a user subclass
 *   could override those getters, so subclasses are not accepted.
 */
import * as coreMessages from "@langchain/core/messages";

/** A deep copy of an object's serialized-relevant state; opaque outside this module. */
export type ObjectSnapshot = SnapshotNode & { readonly kind: "object" | "array" };

type SnapshotNode =
  | { kind: "object"; proto: object | null; keys: string[]; values: SnapshotValue[] }
  | { kind: "array"; items: SnapshotValue[] };
type SnapshotValue = string | number | boolean | null | undefined | SnapshotNode;

/** The message classes whose getters were checked (see above); exact classes only. */
const messageClassNames: ReadonlySet<string> = new Set([
  "AIMessage",
  "AIMessageChunk",
  "ChatMessage",
  "ChatMessageChunk",
  "FunctionMessage",
  "FunctionMessageChunk",
  "HumanMessage",
  "HumanMessageChunk",
  "RemoveMessage",
  "SystemMessage",
  "SystemMessageChunk",
  "ToolMessage",
  "ToolMessageChunk",
]);

const messagePrototypes: ReadonlySet<object> = new Set(
  Object.entries(coreMessages)
    .filter(([name]) => messageClassNames.has(name))
    .map(([, messageClass]) => (messageClass as { prototype: object }).prototype),
);

/** Bounds the cost of a snapshot; a bigger element is simply serialized every time. */
const maxNodes = 4096;
const maxDepth = 64;

/** Not worth describing: the element is serialized every time. */
class Ineligible extends Error {}

function isPlainPrototype(proto: object | null): boolean {
  return proto === Object.prototype || proto === null;
}

/**
 * The snapshot to compare the next put against, or undefined when the element is not eligible.
 * Call it immediately before the serializer reads the element.
 */
export function snapshotObject(element: object): ObjectSnapshot | undefined {
  let budget = maxNodes;
  const copy = (value: unknown, depth: number): SnapshotValue => {
    switch (typeof value) {
      case "string":
      case "number":
      case "boolean":
      case "undefined":
        return value;
      case "object":
        break;
      default:
        throw new Ineligible();
    }
    if (value === null) return null;
    budget -= 1;
    if (budget < 0 || depth > maxDepth) throw new Ineligible();
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) throw new Ineligible();
      const items: SnapshotValue[] = new Array(value.length);
      for (let index = 0; index < value.length; index += 1)
        items[index] = copy(value[index], depth + 1);
      return { kind: "array", items };
    }
    const valueProto = Object.getPrototypeOf(value) as object | null;
    if (!isPlainPrototype(valueProto) && !(depth === 0 && messagePrototypes.has(valueProto!)))
      throw new Ineligible();
    const keys = Object.keys(value);
    const values = keys.map((key) => copy((value as Record<string, unknown>)[key], depth + 1));
    return { kind: "object", proto: valueProto, keys, values };
  };
  try {
    return copy(element, 0) as ObjectSnapshot;
  } catch (error) {
    if (error instanceof Ineligible) return undefined;
    throw error;
  }
}

/** Whether `element` is still exactly what `snapshot` recorded. */
export function matchesSnapshot(element: unknown, snapshot: ObjectSnapshot): boolean {
  return sameAs(element, snapshot);
}

function sameAs(value: unknown, recorded: SnapshotValue): boolean {
  if (typeof recorded !== "object" || recorded === null) return value === recorded;
  if (typeof value !== "object" || value === null) return false;
  if (recorded.kind === "array") {
    if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) return false;
    const { items } = recorded;
    if (value.length !== items.length) return false;
    for (let index = 0; index < items.length; index += 1)
      if (!sameAs(value[index], items[index])) return false;
    return true;
  }
  if (Array.isArray(value) || Object.getPrototypeOf(value) !== recorded.proto) return false;
  const keys = Object.keys(value);
  const { keys: recordedKeys, values } = recorded;
  if (keys.length !== recordedKeys.length) return false;
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index]!;
    if (key !== recordedKeys[index]) return false;
    if (!sameAs((value as Record<string, unknown>)[key], values[index])) return false;
  }
  return true;
}
