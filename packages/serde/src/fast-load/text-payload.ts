import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { RedactingSerializer } from "../redacting-serializer.js";
import { isReservedString } from "../reference-format.js";
import { isStockJsonPlus } from "./json-plus-payload.js";

const unlessReserved = (text: string) => !isReservedString(text);

/**
 * Which strings `serde` loads back as themselves from their "json" payload (`JSON.stringify(text)`
 * as UTF-8), so a reader that already holds such a string's text (the checkpointer keeps long
 * strings as items of plain text) may hand the text over without building and parsing JSON.
 *
 * Known only for LangGraph's own JsonPlusSerializer, whose reviver returns strings unchanged, and
 * for a RedactingSerializer over it, which does the same except for strings of its reserved form
 * (blob references and escaped look-alikes: only the serializer may resolve those). Any other
 * serializer may do what it likes with a string: for it the answer is undefined (none), so a
 * reader need not even look.
 */
export function textLoadsAsItself(
  serde: SerializerProtocol,
): ((text: string) => boolean) | undefined {
  // Exactly these classes: a subclass may load strings its own way.
  if (Object.getPrototypeOf(serde) === RedactingSerializer.prototype)
    return isStockJsonPlus((serde as RedactingSerializer).inner) ? unlessReserved : undefined;
  return isStockJsonPlus(serde) ? unlessReserved : undefined;
}
