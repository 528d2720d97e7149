/**
 * Loads a "json" payload that holds no references, with the result the stock
 * `JsonPlusSerializer.loadsTyped` returns, without its reviver for the parts that are plain JSON
 * and LangChain messages (a chat state). The stock reviver awaits a promise per key and hands
 * every message to `load()` as a new JSON string, which is most of the time a chat-state read
 * takes.
 *
 * Taken only when the inner serializer is LangGraph's own JsonPlusSerializer (not a subclass, not
 * patched). Every other `lc` record (Set, Map, undefined, DeltaSnapshot, secrets, messages outside
 * message-record.ts's subset, other LangChain classes) and every object with an own `__proto__`
 * key is revived by that stock serializer, as its own JSON text. That is exact because the stock
 * reviver's result for a subtree depends on nothing but the subtree, and JSON text round-trips a
 * parsed subtree unchanged except `-0`: a subtree holding `-0` sends the whole payload to stock.
 */
import { HumanMessage } from "@langchain/core/messages";
import { JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import {
  constructMessage,
  coveredMessageClass,
  fastLoadCounters,
  type MessageClass,
} from "./message-record.js";

const stockPrototype = JsonPlusSerializer.prototype;
const stockLoadsTyped = stockPrototype.loadsTyped;
const stockLoads = (stockPrototype as any)._loads;
/** TextDecoder, as stock decodes: it drops a leading BOM and replaces invalid UTF-8 alike. */
const utf8 = new TextDecoder();

/**
 * Whether the stock path builds messages from the same @langchain/core copy we import. With two
 * copies installed, its classes would differ from ours and the fast path would change the
 * result, so it stays off. Settled once per process by loading one message the stock way.
 */
let stockSharesOurMessages: boolean | undefined;
let stockSharesOurMessagesCheck: Promise<void> | undefined;

type Container = Record<string, unknown> | unknown[];

/** Where a value sits, so it can be replaced in place. */
interface Slot {
  readonly parent: Container;
  readonly key: string | number;
}

interface PendingMessage extends Slot {
  readonly messageClass: MessageClass;
  readonly kwargs: Record<string, unknown>;
}

interface PayloadWalk {
  readonly messages: PendingMessage[];
  /** Subtrees the stock reviver loads, none inside another. */
  readonly stockSubtrees: Slot[];
}

/** `inner.loadsTyped("json", data)`, by the fast path when `inner` is the stock serializer. */
export async function loadJsonPlusPayload(
  inner: SerializerProtocol,
  data: Uint8Array | string,
): Promise<unknown> {
  if (isStockJsonPlus(inner)) {
    if (stockSharesOurMessages === undefined) await checkStockSharesOurMessages();
    if (stockSharesOurMessages) {
      const text = typeof data === "string" ? data : utf8.decode(data);
      const loaded = await loadWithFewerPromises(inner, text);
      if (loaded !== wholePayloadToStock) return loaded;
    }
  }
  return inner.loadsTyped("json", data);
}

/** LangGraph's own JsonPlusSerializer: this copy's class itself (not a subclass), unpatched. */
export function isStockJsonPlus(inner: SerializerProtocol): boolean {
  return (
    Object.getPrototypeOf(inner) === stockPrototype &&
    inner.loadsTyped === stockLoadsTyped &&
    (inner as any)._loads === stockLoads
  );
}

function checkStockSharesOurMessages(): Promise<void> {
  stockSharesOurMessagesCheck ??= new JsonPlusSerializer()
    .loadsTyped("json", JSON.stringify(new HumanMessage("probe")))
    .then(
      (loaded) => Object.getPrototypeOf(loaded) === HumanMessage.prototype,
      () => false,
    )
    .then((shares) => {
      stockSharesOurMessages = shares;
    });
  return stockSharesOurMessagesCheck;
}

const wholePayloadToStock: unique symbol = Symbol("whole payload to stock");

/**
 * Parses and revives in place. Messages are built last, once nothing can fail any more, so a
 * payload that falls back never runs a message constructor twice (AIMessage's may warn). Any
 * throw (bad JSON, a stock subtree that fails, a constructor rejecting its fields, a stack
 * overflow) sends the whole payload to stock, which then fails, or not, on its own terms and
 * with its own error.
 */
async function loadWithFewerPromises(
  stock: SerializerProtocol,
  text: string,
): Promise<unknown | typeof wholePayloadToStock> {
  const root: Container = [undefined];
  const walk: PayloadWalk = { messages: [], stockSubtrees: [] };
  try {
    root[0] = JSON.parse(text);
    collectRevivals(root, 0, walk);
  } catch {
    return wholePayloadToStock;
  }
  if (walk.stockSubtrees.length > 0) {
    const subtrees = walk.stockSubtrees.map(valueAt);
    if (walk.stockSubtrees[0]!.parent === root || subtrees.some(holdsNegativeZero)) {
      return wholePayloadToStock;
    }
    try {
      const revived = await Promise.all(
        subtrees.map((subtree) => stock.loadsTyped("json", JSON.stringify(subtree))),
      );
      for (const [index, slot] of walk.stockSubtrees.entries()) setAt(slot, revived[index]);
    } catch {
      return wholePayloadToStock;
    }
  }
  try {
    for (const message of walk.messages) {
      setAt(message, constructMessage(message.messageClass, message.kwargs));
    }
  } catch {
    return wholePayloadToStock;
  }
  fastLoadCounters.payloads++;
  fastLoadCounters.stockSubtrees += walk.stockSubtrees.length;
  return root[0];
}

/**
 * Walks the value at `parent[key]`, recording covered message records and the subtrees left to
 * stock. Plain objects and arrays are kept as they are: the stock reviver would copy them into
 * equal objects with the same key order.
 */
function collectRevivals(parent: Container, key: string | number, walk: PayloadWalk): void {
  const node = (parent as Record<string | number, unknown>)[key];
  if (typeof node !== "object" || node === null) return;
  if (Array.isArray(node)) {
    for (let index = 0; index < node.length; index++) {
      const element = node[index];
      if (typeof element === "object" && element !== null) collectRevivals(node, index, walk);
    }
    return;
  }
  const record = node as Record<string, unknown>;
  if ("lc" in record) {
    const messageClass = coveredMessageClass(record);
    if (messageClass === undefined) walk.stockSubtrees.push({ parent, key });
    else walk.messages.push({ parent, key, messageClass, kwargs: record.kwargs as any });
    return;
  }
  // JSON.parse keeps "__proto__" as an own key; the stock reviver's assignment sets a prototype.
  if (Object.hasOwn(record, "__proto__")) {
    walk.stockSubtrees.push({ parent, key });
    return;
  }
  for (const field in record) {
    const child = record[field];
    if (typeof child === "object" && child !== null) collectRevivals(record, field, walk);
  }
}

/** JSON.stringify writes -0 as 0; outside messages the stock reviver keeps -0. */
function holdsNegativeZero(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return Object.is(value, -0);
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (holdsNegativeZero(child)) return true;
  }
  return false;
}

function valueAt({ parent, key }: Slot): unknown {
  return (parent as Record<string | number, unknown>)[key];
}

function setAt({ parent, key }: Slot, value: unknown): void {
  (parent as Record<string | number, unknown>)[key] = value;
}
