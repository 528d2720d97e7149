/**
 * Loads a "json" payload that holds no references, with the result the stock
 * `JsonPlusSerializer.loadsTyped` returns, but synchronously when the payload is plain JSON and
 * LangChain messages (the common chat state). The stock reviver awaits a promise per key and
 * hands every message to `load()` as a new JSON string, which is most of the time a chat-state
 * read takes.
 *
 * Taken only when the inner serializer is LangGraph's own JsonPlusSerializer (not a subclass, not
 * patched), and only when every object in the payload is plain data or a covered message record
 * (see message-record.ts). Anything else, including any other `lc` record (Set, Map, undefined,
 * DeltaSnapshot, secrets, other LangChain classes), sends the whole payload to the stock path,
 * so behaviour outside that subset is exactly stock.
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

interface PendingMessage {
  readonly parent: Record<string, unknown> | unknown[];
  readonly key: string | number;
  readonly messageClass: MessageClass;
  readonly kwargs: Record<string, unknown>;
}

/** `inner.loadsTyped("json", data)`, by the fast path when `inner` is stock and the payload covered. */
export async function loadJsonPlusPayload(
  inner: SerializerProtocol,
  data: Uint8Array | string,
): Promise<unknown> {
  if (isStockJsonPlus(inner)) {
    if (stockSharesOurMessages === undefined) await checkStockSharesOurMessages();
    if (stockSharesOurMessages) {
      const loaded = loadCovered(typeof data === "string" ? data : utf8.decode(data));
      if (loaded !== notCovered) return loaded;
    }
  }
  return inner.loadsTyped("json", data);
}

function isStockJsonPlus(inner: SerializerProtocol): boolean {
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

const notCovered: unique symbol = Symbol("not covered");

/**
 * Parses and revives in place. Messages are built only after the whole tree proved covered, so a
 * payload that falls back never runs a message constructor twice (AIMessage's may warn). Any
 * throw (bad JSON, a constructor rejecting its fields, a stack overflow) also falls back: the
 * stock path then fails, or not, on its own terms.
 */
function loadCovered(text: string): unknown {
  try {
    const root = { value: JSON.parse(text) as unknown };
    const pending: PendingMessage[] = [];
    if (!collectMessages(root, "value", pending)) return notCovered;
    for (const { parent, key, messageClass, kwargs } of pending) {
      (parent as Record<string | number, unknown>)[key] = constructMessage(messageClass, kwargs);
    }
    fastLoadCounters.payloads++;
    return root.value;
  } catch {
    return notCovered;
  }
}

/**
 * Walks `parent[key]` and records every message record in it; false as soon as something is not
 * covered. Plain objects and arrays are kept as they are: the stock reviver would copy them into
 * equal objects with the same key order.
 */
function collectMessages(
  parent: Record<string, unknown> | unknown[],
  key: string | number,
  pending: PendingMessage[],
): boolean {
  const node = (parent as Record<string | number, unknown>)[key];
  if (typeof node !== "object" || node === null) return true;
  if (Array.isArray(node)) {
    for (let index = 0; index < node.length; index++) {
      const element = node[index];
      if (typeof element === "object" && element !== null) {
        if (!collectMessages(node, index, pending)) return false;
      }
    }
    return true;
  }
  const record = node as Record<string, unknown>;
  if ("lc" in record) {
    const messageClass = coveredMessageClass(record);
    if (messageClass === undefined) return false;
    pending.push({ parent, key, messageClass, kwargs: record.kwargs as Record<string, unknown> });
    return true;
  }
  for (const field in record) {
    // JSON.parse keeps "__proto__" as an own key; the stock reviver's assignment sets a prototype.
    if (field === "__proto__") return false;
    const child = record[field];
    if (typeof child === "object" && child !== null) {
      if (!collectMessages(record, field, pending)) return false;
    }
  }
  return true;
}
