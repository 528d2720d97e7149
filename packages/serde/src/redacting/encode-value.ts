/**
 * Turns a value into the JSON-ready tree that `JsonPlusSerializer` would stringify, in one walk,
 * while deciding what leaves the payload.
 *
 * The transform mirrors JSON.stringify with JsonPlus's replacer step by step (toJSON first, then
 * the replacer's encodings for undefined, DeltaSnapshot, Set, Map, RegExp, Error, Send and
 * Uint8Array, then unboxing), so the tree stringifies natively with no replacer and the stock
 * reviver reads it back exactly like a stock payload. Differences from stock, all on purpose:
 * functions, symbols, bigints and cycles raise ERR_LG_UNSERIALIZABLE instead of being dropped or
 * turned into the "[unable to serialize …]" placeholder.
 */
import { DeltaSnapshot } from "@langchain/langgraph-checkpoint";
import type { RedactingSerializerLimits } from "../options.js";
import {
  escapeReservedString,
  isReservedString,
  referenceJsonBytes,
  reservedPrefixCharCode,
} from "../reference-format.js";
import { BlobSlot } from "./blob-slot.js";
import type { StringBlobCache } from "./string-blob-cache.js";
import { UnserializableError } from "./unserializable.js";

export interface EncodeContext {
  readonly limits: RedactingSerializerLimits;
  readonly stringCache: StringBlobCache;
  /** Objects on the path from the unit root to the current node: a repeat is a cycle. */
  ancestors: Set<object>;
  /** Every slot created, in creation order. */
  readonly slots: BlobSlot[];
  /** Subtrees cut at maxDepth, encoded after the current walk returns (keeps the stack flat). */
  readonly deferred: BlobSlot[];
  /**
   * Rough size of the inline JSON so far. It undercounts escapes and long numbers by at most ~6x,
   * which is enough to know that stringifying cannot approach V8's string limit.
   */
  approxBytes: number;
  /** Strings with fewer UTF-16 units than this cannot exceed maxStringBytes in UTF-8. */
  readonly stringCheckUnits: number;
  /** Uint8Arrays larger than this become binary blobs (their JSON form is one number per byte). */
  readonly maxInlineBinaryBytes: number;
}

export function createEncodeContext(
  limits: RedactingSerializerLimits,
  stringCache: StringBlobCache,
): EncodeContext {
  return {
    limits,
    stringCache,
    ancestors: new Set(),
    slots: [],
    deferred: [],
    approxBytes: 0,
    stringCheckUnits: Math.floor(limits.maxStringBytes / 3),
    maxInlineBinaryBytes: Math.min(limits.maxStringBytes, limits.maxArrayLength),
  };
}

/** Encodes a unit root; nested deferred subtrees are encoded by `encodeDeferredSlots`. */
export function encodeUnit(value: unknown, context: EncodeContext): unknown {
  return encodeValue(value, "", 0, context);
}

/** Encodes subtrees cut at maxDepth, iteratively, so nesting depth never reaches the JS stack. */
export function encodeDeferredSlots(context: EncodeContext): void {
  while (context.deferred.length > 0) {
    const slot = context.deferred.pop()!;
    const content = slot.content;
    if (content.type !== "deferred") continue;
    const outerAncestors = context.ancestors;
    context.ancestors = content.ancestors;
    try {
      slot.content = { type: "tree", value: encodeContainer(content.value, 0, context) };
    } finally {
      context.ancestors = outerAncestors;
    }
  }
}

function unserializable(what: string, hint?: string): UnserializableError {
  return new UnserializableError(what, hint === undefined ? {} : { hint });
}

function undefinedRecord() {
  return { lc: 2, type: "undefined" };
}

function constructorRecord(name: string, method: string | null, args: unknown[]) {
  return { lc: 2, type: "constructor", id: [name], method, args, kwargs: {} };
}

function encodeValue(input: unknown, key: string | number, depth: number, context: EncodeContext) {
  let value = input;
  // Step 1 of JSON.stringify's SerializeJSONProperty: toJSON (messages, Date, Buffer …).
  if (typeof value === "object" && value !== null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, String(key));
  }
  switch (typeof value) {
    case "string":
      return encodeString(value, context);
    case "number":
      context.approxBytes += 8;
      return value;
    case "boolean":
      context.approxBytes += 5;
      return value;
    case "undefined":
      context.approxBytes += 26;
      return undefinedRecord();
    case "function":
      throw unserializable("a function");
    case "symbol":
      throw unserializable("a symbol");
    case "bigint":
      throw unserializable("a bigint", "Store big integers as strings.");
  }
  if (value === null) {
    context.approxBytes += 4;
    return null;
  }
  // Step 2: JsonPlus's replacer, in its order.
  let object = value as object;
  if (object instanceof DeltaSnapshot) {
    object = { lc: 2, type: "delta_snapshot", value: object.value };
  } else if (object instanceof Set || object instanceof Map) {
    // Encoded as JsonPlus's record, whose entries sit at args[0]; a path names the entry.
    const record = constructorRecord(object.constructor.name, null, [Array.from(object)]);
    try {
      return encodeNested(record, depth, context);
    } catch (error) {
      if (error instanceof UnserializableError) error.dropLeadingSteps(2);
      throw error;
    }
  } else if (object instanceof RegExp) {
    object = constructorRecord("RegExp", null, [object.source, object.flags]);
  } else if (object instanceof Error) {
    object = constructorRecord("Error", null, [object.message]);
  } else if ((object as { lg_name?: unknown }).lg_name === "Send") {
    const send = object as { node: unknown; args: unknown; timeout?: unknown };
    object = {
      node: send.node,
      args: send.args,
      ...(send.timeout !== undefined ? { timeout: send.timeout } : {}),
    };
  } else if (object instanceof Uint8Array) {
    if (object.byteLength > context.maxInlineBinaryBytes) {
      return addSlot(context, new BlobSlot({ type: "binary", value: object }, "b"));
    }
    object = constructorRecord("Uint8Array", "from", [Array.from(object)]);
  } else if (object instanceof Number || object instanceof String || object instanceof Boolean) {
    // Step 3: unbox, as JSON.stringify does after the replacer.
    return encodeValue(object.valueOf(), key, depth, context);
  }
  return encodeNested(object, depth, context);
}

/** An object or array below the current one: encoded now, or deferred past maxDepth. */
function encodeNested(object: object, depth: number, context: EncodeContext): unknown {
  if (depth >= context.limits.maxDepth) {
    if (context.ancestors.has(object)) throw cycleError();
    const slot = new BlobSlot(
      { type: "deferred", value: object, ancestors: new Set(context.ancestors) },
      "j",
    );
    context.deferred.push(slot);
    return addSlot(context, slot);
  }
  return encodeContainer(object, depth, context);
}

function cycleError(): UnserializableError {
  return unserializable(
    "a circular structure (it contains itself)",
    "Break the cycle or store an id instead of the parent object.",
  );
}

function addSlot(context: EncodeContext, slot: BlobSlot): BlobSlot {
  context.slots.push(slot);
  context.approxBytes += referenceJsonBytes;
  return slot;
}

function encodeContainer(object: object, depth: number, context: EncodeContext): unknown {
  const { ancestors, limits } = context;
  if (ancestors.has(object)) throw cycleError();
  ancestors.add(object);
  const childDepth = depth + 1;
  let encoded: unknown;
  let oversized: boolean;
  if (Array.isArray(object)) {
    const length = object.length;
    const out = new Array(length);
    for (let index = 0; index < length; index++) {
      try {
        out[index] = encodeValue(object[index], index, childDepth, context);
      } catch (error) {
        if (error instanceof UnserializableError) error.prepend(index);
        throw error;
      }
    }
    context.approxBytes += length + 2;
    encoded = out;
    oversized = length > limits.maxArrayLength;
  } else {
    const keys = Object.keys(object);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      let child: unknown;
      try {
        child = encodeValue((object as Record<string, unknown>)[key], key, childDepth, context);
      } catch (error) {
        if (error instanceof UnserializableError) error.prepend(key);
        throw error;
      }
      if (key === "__proto__") {
        Object.defineProperty(out, key, { value: child, enumerable: true, writable: true });
      } else {
        out[key] = child;
      }
      context.approxBytes += key.length + 4;
    }
    encoded = out;
    oversized = keys.length > limits.maxObjectKeys;
  }
  ancestors.delete(object);
  if (!oversized) return encoded;
  // Count the reference instead of the inline content: the content goes to its own blob.
  return addSlot(context, new BlobSlot({ type: "tree", value: encoded }, "j"));
}

function encodeString(value: string, context: EncodeContext): unknown {
  const units = value.length;
  if (units > context.stringCheckUnits) {
    const maxBytes = context.limits.maxStringBytes;
    if (units > maxBytes || Buffer.byteLength(value, "utf8") > maxBytes) {
      return addSlot(context, stringSlot(value, context));
    }
  }
  context.approxBytes += units + 2;
  if (units > 0 && value.charCodeAt(0) === reservedPrefixCharCode && isReservedString(value)) {
    return escapeReservedString(value);
  }
  return value;
}

/** ES2024, in V8 since Node 20; the repo's lib setting is ES2023. */
type WellFormedCheck = string & { isWellFormed(): boolean };

export function stringSlot(value: string, context: EncodeContext): BlobSlot {
  // A cached string skips the O(n) well-formedness scan too: only the lookup is paid per dump.
  const cached = context.stringCache.blobOf(value);
  if (cached) {
    const slot = new BlobSlot({ type: "string", value }, cached.kind, cached.id);
    slot.chunkIds = cached.chunkIds;
    return slot;
  }
  // UTF-8 cannot hold lone surrogates (they would come back as U+FFFD); UTF-16LE holds any string.
  const kind = (value as WellFormedCheck).isWellFormed() ? "s" : "w";
  return new BlobSlot({ type: "string", value }, kind);
}
