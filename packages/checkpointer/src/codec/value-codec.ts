import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { type ContentIds, sha256ContentIds } from "@leangraph/serde";
import { encodeArray, isPlainArray } from "./array-encode.js";
import { defaultValueCodecOptions, type ValueCodecOptions } from "./codec-options.js";
import type { EncodedValue, ItemReader } from "./encoded-value.js";
import { encodeKeyed, keyedEntriesOf } from "./keyed-encode.js";
import { payloadPreparerFor, rebaseUnserializable } from "./payload-preparer.js";
import { ReuseMemory } from "./reuse-memory.js";
import { type EncodeContext, storedOnceItem } from "./tree-encode.js";
import { ValueDecoder } from "./value-decode.js";
import { inlineRef, itemRef, type ValueRef } from "./value-ref.js";

export {
  type CodecOptions,
  defaultValueCodecOptions,
  type ValueCodecOptions,
} from "./codec-options.js";
export type { EncodedValue, ItemKind, ItemReader, NewItem } from "./encoded-value.js";

/**
 * Turns channel values and pending-write values into small refs plus content-addressed items, and
 * back. Values go through the saver's `serde` unchanged (element by element for arrays), so what
 * round-trips through the stock serializer round-trips here too.
 *
 * The rooms: codec-options (what is stored how), reuse-memory (what earlier encodes of a channel
 * left), array-encode and keyed-encode (the two tree shapes) over tree-encode (the steps they
 * share), value-decode (reading back), tree-node and value-ref (the formats).
 */
export class ValueCodec {
  readonly #context: EncodeContext;
  readonly #decoder: ValueDecoder;

  constructor(serde: SerializerProtocol, options: ValueCodecOptions = defaultValueCodecOptions) {
    this.#context = {
      options,
      preparer: payloadPreparerFor(serde),
      memory: new ReuseMemory(),
      ids: sha256ContentIds,
    };
    this.#decoder = new ValueDecoder(serde);
  }

  /**
   * Names items from now on with `ids` (the saver's keyed ids once its ring is resolved). What
   * earlier encodes left to reuse is forgotten when the naming changes: its ids are the old ones.
   */
  useContentIds(ids: ContentIds): void {
    if (ids === this.#context.ids) return;
    this.#context.ids = ids;
    this.#context.memory.forget();
  }

  forgetReuse(): void {
    this.#context.memory.forget();
  }

  /**
   * Plans how `value` is stored: its ref and the items to insert, with no I/O. A value the
   * serializer cannot store raises UnserializableError with a path relative to `value`.
   */
  async encode(value: unknown, reuseKey?: string): Promise<EncodedValue> {
    const context = this.#context;
    const { options } = context;
    if (isPlainArray(value) && value.length > 0) return encodeArray(context, value, reuseKey);
    const keyed = keyedEntriesOf(value, options.keyedTreeMinEntries);
    if (keyed !== undefined) return encodeKeyed(context, keyed, reuseKey);
    const { values, toWrite } = await context.preparer
      .prepare([value], false)
      .catch((error: unknown) => Promise.reject(rebaseUnserializable(error, undefined)));
    const { type, bytes, blobIds } = values[0]!;
    // Stored once: a pending write `{ [path]: text }` has too few keys for a keyed tree, but the
    // channel it is folded into holds `text` as an entry item of its own. Serialized whole, the
    // write's item would be a second copy of the text under another id; as a (one-leaf) keyed
    // tree its big entries are the very items the channel names. Only worth a tree when the
    // whole is above the size an entry is stored once at.
    if (bytes.byteLength > options.inlineElementMaxBytes) {
      const fewKeys = keyedEntriesOf(value, 1);
      if (fewKeys !== undefined) return encodeKeyed(context, fewKeys, reuseKey);
    }
    // A value that references blobs is always an item: rows then never name blobs themselves,
    // so liveness is decided from item rows alone.
    if (bytes.byteLength <= options.inlineValueMaxBytes && blobIds.length === 0) {
      const ref = inlineRef(type, bytes, type === "json");
      return { ref, items: [], reusedItemIds: [], toWrite };
    }
    const { item, text } = storedOnceItem(context, values[0]!);
    return { ref: itemRef(type, item.id, text), items: [item], reusedItemIds: [], toWrite };
  }

  decode(ref: ValueRef, reader: ItemReader): Promise<unknown> {
    return this.#decoder.decode(ref, reader);
  }
}
