/**
 * Revives one serialized LangChain message (`{ lc: 1, type: "constructor", id, kwargs }`)
 * synchronously, with exactly the result `load(JSON.stringify(record))` from
 * `@langchain/core/load` gives, for the records it covers. It exists because core's `load` awaits
 * a promise per key and re-resolves the class and its aliases for every message, which made
 * reviving messages the dominant cost of reading a chat state.
 *
 * Covered: ids `["langchain_core", "messages", <Name>]` where <Name> is an exported message class
 * of @langchain/core/messages, whose kwargs are plain JSON data: no object with an `lc` or
 * `__lc_escaped__` key (nested LangChain objects, secrets, escaped user data), nothing deeper than
 * core's default depth limit. Anything else returns undefined and the caller takes the stock path.
 */
import * as coreMessages from "@langchain/core/messages";

/** `load()`'s default `maxDepth`: deeper values make it throw, so they are not covered here. */
const coreMaxDepth = 50;
/** Field names are cached per class; user-defined kwargs keys must not grow it without bound. */
const maxCachedFieldNames = 1024;

type MessageConstructor = new (fields: Record<string, unknown>) => object;

export interface MessageClass {
  readonly construct: MessageConstructor;
  /** Core's keyFromJson for this class: its inverted lc_aliases first, else camelCase. */
  fieldNameOf(jsonKey: string): string;
}

/**
 * Counts what the fast paths did, so tests can tell a fast load from a stock one (the results are
 * meant to be indistinguishable) and benchmarks can show coverage. Never reset by the library.
 */
export const fastLoadCounters = {
  /** Payloads loaded by the fast path (some of their parts may have gone to stock, see below). */
  payloads: 0,
  /** Messages constructed here instead of through `load()`. */
  messages: 0,
  /** Parts of those payloads that the stock reviver loaded on its own (Set, Map, other records). */
  stockSubtrees: 0,
};

const messageClasses = collectMessageClasses();

/**
 * Revives `record` when it is covered, else returns undefined. A covered record's kwargs may have
 * `-0` rewritten to `0` in place (what the stock path's JSON.stringify does): pass a tree you own.
 */
export function reviveMessageRecord(record: Record<string, unknown>): object | undefined {
  const messageClass = coveredMessageClass(record);
  return messageClass && constructMessage(messageClass, record.kwargs as Record<string, unknown>);
}

/**
 * The class to build `record` with if it is covered (see the module comment), else undefined,
 * leaving the record untouched. When covered, `-0` in its kwargs has been rewritten to `0`.
 */
export function coveredMessageClass(record: Record<string, unknown>): MessageClass | undefined {
  let keyCount = 0;
  for (const _ in record) keyCount++;
  // Exactly what Serializable.toJSON writes; other keys would be revived by the stock path first.
  if (keyCount !== 4 || record.lc !== 1 || record.type !== "constructor") return undefined;
  const { id, kwargs } = record;
  if (!Array.isArray(id) || id.length !== 3 || id[0] !== "langchain_core") return undefined;
  if (id[1] !== "messages" || typeof id[2] !== "string") return undefined;
  const messageClass = messageClasses.get(id[2]);
  if (messageClass === undefined || !isPlainObject(kwargs)) return undefined;
  // In load(), the record is depth 0 and kwargs depth 1.
  const kwargsData = plainJsonData(kwargs, 1);
  if (kwargsData === PlainJson.no) return undefined;
  if (kwargsData === PlainJson.withNegativeZero) replaceNegativeZero(kwargs);
  return messageClass;
}

/** `new Class(mapKeys(kwargs, keyFromJson, aliases))`, as load() does. */
export function constructMessage(
  messageClass: MessageClass,
  kwargs: Record<string, unknown>,
): object {
  const fields: Record<string, unknown> = {};
  for (const key in kwargs) fields[messageClass.fieldNameOf(key)] = kwargs[key];
  fastLoadCounters.messages++;
  return new messageClass.construct(fields);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

enum PlainJson {
  no,
  yes,
  /** Plain, but holds `-0`, which the stock path's JSON.stringify turns into `0`. */
  withNegativeZero,
}

/**
 * Whether `value` comes out of the stock path's JSON.stringify + load() unchanged (but for `-0`):
 * JSON data whose objects hold no key that load() (or the prototype setter) treats specially.
 */
function plainJsonData(value: unknown, depth: number): PlainJson {
  if (depth > coreMaxDepth) return PlainJson.no;
  if (typeof value !== "object" || value === null) {
    if (!isPlainJsonScalar(value)) return PlainJson.no;
    return Object.is(value, -0) ? PlainJson.withNegativeZero : PlainJson.yes;
  }
  let found = PlainJson.yes;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const element = plainJsonData(value[index], depth + 1);
      if (element === PlainJson.no) return PlainJson.no;
      if (element === PlainJson.withNegativeZero) found = element;
    }
    return found;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return PlainJson.no;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (key === "lc" || key === "__lc_escaped__" || key === "__proto__") return PlainJson.no;
    const child = plainJsonData(record[key], depth + 1);
    if (child === PlainJson.no) return PlainJson.no;
    if (child === PlainJson.withNegativeZero) found = child;
  }
  return found;
}

function replaceNegativeZero(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  const container = value as Record<string, unknown>;
  for (const key in container) {
    const child = container[key];
    if (Object.is(child, -0)) container[key] = 0;
    else replaceNegativeZero(child);
  }
}

/** undefined, NaN and Infinity change under JSON.stringify; JSON.parse never yields them anyway. */
function isPlainJsonScalar(value: unknown): boolean {
  return (
    typeof value === "string" ||
    typeof value === "boolean" ||
    value === null ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/**
 * Every exported subclass of BaseMessage, under its export name, resolved once. load() resolves
 * `id[2]` as a property of the same module and then sets the class's `name` to `id[2]`; only
 * classes whose name already equals their export name are taken, so that write is a no-op.
 * BaseMessage and BaseMessageChunk themselves are left to the stock path.
 */
function collectMessageClasses(): Map<string, MessageClass> {
  const base = coreMessages.BaseMessage.prototype;
  const classes = new Map<string, MessageClass>();
  for (const [name, exported] of Object.entries(coreMessages)) {
    if (typeof exported !== "function" || typeof exported.prototype !== "object") continue;
    if (!Object.prototype.isPrototypeOf.call(base, exported.prototype)) continue;
    if (exported === coreMessages.BaseMessageChunk) continue;
    if (Object.getOwnPropertyDescriptor(exported, "name")?.value !== name) continue;
    classes.set(name, messageClassOf(exported as unknown as MessageConstructor));
  }
  return classes;
}

function messageClassOf(construct: MessageConstructor): MessageClass {
  const fieldNameByAlias = invertedAliases(construct);
  const fieldNames = new Map<string, string>();
  return {
    construct,
    fieldNameOf(jsonKey) {
      let fieldName = fieldNames.get(jsonKey);
      if (fieldName === undefined) {
        // A plain object on purpose: load() looks keys up in one, so a key such as "constructor"
        // finds Object.prototype's function there, which then becomes the property name.
        fieldName = String(fieldNameByAlias[jsonKey] || camelCaseFromJson(jsonKey));
        if (fieldNames.size < maxCachedFieldNames) fieldNames.set(jsonKey, fieldName);
      }
      return fieldName;
    },
  };
}

/**
 * The class's lc_aliases, inverted to alias -> field, computed as load() does for every record:
 * Object.assign walking from the class up its chain (so a base class's entry overwrites a
 * subclass's), then later entries win the inversion. The getters return constants: once is enough.
 */
function invertedAliases(construct: MessageConstructor): Record<string, unknown> {
  const aliases: Record<string, unknown> = {};
  for (let current: any = construct; current?.prototype; current = Object.getPrototypeOf(current)) {
    Object.assign(aliases, Reflect.get(current.prototype, "lc_aliases"));
  }
  const inverted: Record<string, unknown> = {};
  for (const [field, alias] of Object.entries(aliases)) inverted[alias as string] = field;
  return inverted;
}

const jsonKeySeparators = /[-_\s]+/g;

/**
 * Core's camelCase for kwargs keys: trimmed; if it holds `-`, `_` or whitespace, runs of them
 * become one `_`, the whole key is lowercased, and each `_` run before [a-z0-9] is dropped with
 * that char uppercased. "tool_call_id" -> "toolCallId", "Already-Camel" -> "alreadyCamel".
 */
export function camelCaseFromJson(jsonKey: string): string {
  const trimmed = jsonKey.trim();
  if (!/[-_\s]/.test(trimmed)) return trimmed;
  return trimmed
    .replace(jsonKeySeparators, "_")
    .toLowerCase()
    .replace(/_+([a-z0-9])/g, (_, next: string) => next.toUpperCase());
}
