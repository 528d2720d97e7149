import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { textLoadsAsItself } from "@leangraph/serde";
import { rowCorruptError } from "../errors.js";
import type { ItemReader } from "./encoded-value.js";
import { joinJsonArray } from "./json-array-split.js";
import { type ArrayEntry, decodeNode, type KeyedEntry, type TreeEntry } from "./tree-node.js";
import { parseValueRef, shapeOf, type ValueRef } from "./value-ref.js";

/** A text item's body (plain UTF-8) as the JSON string the serializer wrote for it. */
function jsonOfText(stored: Uint8Array): Uint8Array {
  const text = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString("utf8");
  return Buffer.from(JSON.stringify(text), "utf8");
}

/** One batch of JSON elements read back with one parse; 32 MiB keeps far from V8's string limit. */
const loadBatchMaxBytes = 32 * 1024 * 1024;

const quote = 0x22;
const backslash = 0x5c;

/**
 * The string an item body stands for when it is one: a text item's body is the text itself; a
 * "json" body that is a JSON string with nothing escaped is its text between two quotes, byte for
 * byte (JSON.stringify escapes every quote, backslash and control character, so no backslash and
 * no quote inside means nothing was). Undefined for anything else.
 */
function stringOfBody(body: Uint8Array, storedAs: "text" | "json"): string | undefined {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Buffer decoding, not TextDecoder's default: a leading U+FEFF is part of the text.
  if (storedAs === "text") return buffer.toString("utf8");
  const last = buffer.byteLength - 1;
  if (last < 1 || buffer[0] !== quote || buffer.indexOf(quote, 1) !== last) return undefined;
  if (buffer.indexOf(backslash) !== -1) return undefined;
  return buffer.toString("utf8", 1, last);
}

/** Item entries' bodies, and the strings some of them stand for (kept apart by how each is stored). */
interface ItemPayloads {
  bytes: Map<string, Uint8Array>;
  strings: { text: Map<string, string>; json: Map<string, string> };
}

type ItemEntry = Extract<TreeEntry, { kind: "item" }>;

/**
 * Reads a value back from its ref: inline bytes, one item, or a tree read one level per round
 * trip, then handed to the saver's `serde` exactly as it serialized them.
 */
export class ValueDecoder {
  readonly #serde: SerializerProtocol;

  /**
   * Strings the serializer loads as themselves: their text is handed over without a parse.
   * Undefined for a serializer not known to: then no body is looked at for its text.
   */
  readonly #textLoadsAsItself: ((text: string) => boolean) | undefined;

  constructor(serde: SerializerProtocol) {
    this.#serde = serde;
    this.#textLoadsAsItself = textLoadsAsItself(serde);
  }

  async decode(ref: ValueRef, reader: ItemReader): Promise<unknown> {
    const shape = shapeOf(ref);
    switch (shape.kind) {
      case "array":
        return this.#decodeArray(shape.rootId, shape.length, reader);
      case "keyed":
        return this.#decodeKeyed(shape.rootId, shape.size, shape.container, reader);
      case "inline":
        return this.#load(shape.type, shape.bytes);
      case "item": {
        const entry: ItemEntry = {
          kind: "item",
          type: shape.type,
          itemId: shape.itemId,
          text: shape.text,
        };
        const payloads = await this.#readItemPayloads([entry], reader);
        const string = this.#stringOf(entry, payloads);
        if (string !== undefined) return string;
        const bytes = payloads.bytes.get(shape.itemId);
        if (bytes === undefined) throw rowCorruptError(`value ${shape.itemId}`);
        return this.#load(shape.type, shape.text ? jsonOfText(bytes) : bytes);
      }
    }
  }

  /**
   * A "bytes" payload is the value itself: the stock serializer hands back what it is given, so it
   * gets a plain Uint8Array of its own, as MemorySaver returns it, never a Buffer (whose toJSON
   * would turn it into `{ type: "Buffer", data }` the next time it is stored) or a view into a
   * larger row buffer.
   */
  #load(type: string, bytes: Uint8Array): Promise<unknown> {
    return this.#serde.loadsTyped(type, type === "bytes" ? new Uint8Array(bytes) : bytes);
  }

  /**
   * The entries of a tree in order. Every leaf sits at the same depth (each level packs the whole
   * level below), so the tree is read one level per round trip.
   */
  async #readLeaves(rootId: string, reader: ItemReader): Promise<TreeEntry[]> {
    let level = [rootId];
    const entries: TreeEntry[] = [];
    while (level.length > 0) {
      const bytesById = await reader.readItems(level);
      const next: string[] = [];
      for (const id of level) {
        const bytes = bytesById.get(id);
        if (bytes === undefined) throw rowCorruptError(`tree node ${id}`);
        const node = decodeNode(id, bytes);
        if (node.kind === "inner") next.push(...node.childIds);
        else entries.push(...node.entries);
      }
      level = next;
    }
    return entries;
  }

  async #decodeArray(rootId: string, length: number, reader: ItemReader): Promise<unknown[]> {
    const entries = (await this.#readLeaves(rootId, reader)) as ArrayEntry[];
    if (entries.length !== length || entries.some((entry) => "key" in entry)) {
      throw rowCorruptError(
        `array ${rootId} (expected ${length} elements, found ${entries.length})`,
      );
    }
    return this.#loadEntries(entries, reader, (index) => `array element ${index} of ${rootId}`);
  }

  async #decodeKeyed(
    rootId: string,
    count: number,
    kind: "object" | "Map",
    reader: ItemReader,
  ): Promise<unknown> {
    const entries = await this.#readLeaves(rootId, reader);
    if (entries.length !== count || entries.some((entry) => !("key" in entry))) {
      throw rowCorruptError(
        `${kind} ${rootId} (expected ${count} entries, found ${entries.length})`,
      );
    }
    const keyed = entries as KeyedEntry[];
    const values = await this.#loadEntries(
      keyed,
      reader,
      (index) => `${kind} entry ${index} of ${rootId}`,
      (entry) => this.decode(parseValueRef(entry.refJson, `${kind} ${rootId}`), reader),
    );
    if (kind === "Map") {
      const map = new Map<unknown, unknown>();
      for (const [index, entry] of keyed.entries())
        map.set(await this.#load(entry.key.type, entry.key.bytes), values[index]);
      return map;
    }
    const object: Record<string, unknown> = {};
    for (const [index, entry] of keyed.entries()) {
      // Plain assignment, as JsonPlus's reviver builds objects: a `__proto__` key sets the
      // prototype there too (or is dropped), and the result must be the stock one.
      object[Buffer.from(entry.key.bytes).toString("utf8")] = values[index];
    }
    return object;
  }

  /**
   * The values of a leaf level's entries, in order: strings the serializer loads as themselves
   * straight from their text, "json" payloads in batches of one parse, other types one by one,
   * nested trees (keyed entries only) by `decodeTree`.
   */
  async #loadEntries<Entry extends TreeEntry>(
    entries: readonly Entry[],
    reader: ItemReader,
    where: (index: number) => string,
    decodeTree?: (entry: Extract<Entry, { kind: "tree" }>) => Promise<unknown>,
  ): Promise<unknown[]> {
    const payloads = await this.#readItemPayloads(entries, reader);
    const values: unknown[] = new Array(entries.length);
    const jsonPositions: number[] = [];
    const jsonPayloads: Uint8Array[] = [];
    for (const [index, entry] of entries.entries()) {
      if (entry.kind === "tree") {
        if (decodeTree === undefined) throw rowCorruptError(where(index));
        values[index] = await decodeTree(entry as Extract<Entry, { kind: "tree" }>);
        continue;
      }
      const string = entry.kind === "item" ? this.#stringOf(entry, payloads) : undefined;
      if (string !== undefined) {
        values[index] = string;
        continue;
      }
      const stored = entry.kind === "inline" ? entry.bytes : payloads.bytes.get(entry.itemId);
      if (stored === undefined) throw rowCorruptError(where(index));
      const bytes = entry.kind === "item" && entry.text === true ? jsonOfText(stored) : stored;
      if (entry.type === "json") {
        jsonPositions.push(index);
        jsonPayloads.push(bytes);
      } else values[index] = await this.#load(entry.type, bytes);
    }
    const loaded = await this.#loadJsonElements(jsonPayloads);
    jsonPositions.forEach((position, index) => {
      values[position] = loaded[index];
    });
    return values;
  }

  /**
   * Reads the item entries' bodies. Each body that stands for a string the serializer loads as
   * itself becomes that string as it arrives, while the other reads (and their decompression, on
   * the thread pool) go on: that turns the wait for the slowest read into useful work.
   */
  async #readItemPayloads(
    entries: readonly TreeEntry[],
    reader: ItemReader,
  ): Promise<ItemPayloads> {
    const ids = new Set<string>();
    const storedAsText = new Set<string>();
    const storedAsJson = new Set<string>();
    for (const entry of entries) {
      if (entry.kind !== "item") continue;
      ids.add(entry.itemId);
      if (entry.text === true) storedAsText.add(entry.itemId);
      else if (entry.type === "json") storedAsJson.add(entry.itemId);
    }
    const strings = { text: new Map<string, string>(), json: new Map<string, string>() };
    const loadsAsItself = this.#textLoadsAsItself;
    if (loadsAsItself === undefined) {
      const bytes = ids.size > 0 ? await reader.readItems([...ids]) : new Map();
      return { bytes, strings };
    }
    const looked = new Set<string>();
    const lookAt = (id: string, body: Uint8Array) => {
      if (looked.has(id)) return;
      looked.add(id);
      for (const [storedAs, candidates] of [
        ["text", storedAsText],
        ["json", storedAsJson],
      ] as const) {
        if (!candidates.has(id)) continue;
        const string = stringOfBody(body, storedAs);
        if (string !== undefined && loadsAsItself(string)) strings[storedAs].set(id, string);
      }
    };
    const bytes = ids.size > 0 ? await reader.readItems([...ids], lookAt) : new Map();
    // A reader that does not report arrivals: the same look, now.
    for (const [id, body] of bytes) lookAt(id, body);
    return { bytes, strings };
  }

  #stringOf(entry: ItemEntry, payloads: ItemPayloads): string | undefined {
    if (entry.text === true) return payloads.strings.text.get(entry.itemId);
    return entry.type === "json" ? payloads.strings.json.get(entry.itemId) : undefined;
  }

  /**
   * Reads JSON elements back in batches of one array text each: one parse and revive per batch
   * instead of per element. Batches stay far below V8's maximum string length.
   */
  async #loadJsonElements(payloads: Uint8Array[]): Promise<unknown[]> {
    const values: unknown[] = [];
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const loaded = (await this.#serde.loadsTyped("json", joinJsonArray(batch))) as unknown[];
      for (const value of loaded) values.push(value);
      batch = [];
      batchBytes = 0;
    };
    for (const payload of payloads) {
      if (batchBytes + payload.byteLength > loadBatchMaxBytes) await flush();
      batch.push(payload);
      batchBytes += payload.byteLength + 1;
    }
    await flush();
    return values;
  }
}
