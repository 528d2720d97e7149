import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
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

/**
 * Reads a value back from its ref: inline bytes, one item, or a tree read one level per round
 * trip, then handed to the saver's `serde` exactly as it serialized them.
 */
export class ValueDecoder {
  readonly #serde: SerializerProtocol;

  constructor(serde: SerializerProtocol) {
    this.#serde = serde;
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
        const bytes = (await reader.readItems([shape.itemId])).get(shape.itemId);
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
    const itemIds = [
      ...new Set(entries.flatMap((entry) => (entry.kind === "item" ? [entry.itemId] : []))),
    ];
    const itemBytes =
      itemIds.length > 0 ? await reader.readItems(itemIds) : new Map<string, Uint8Array>();
    const payloads = entries.map((entry, index) => {
      const bytes = entry.kind === "inline" ? entry.bytes : itemBytes.get(entry.itemId);
      if (bytes === undefined) throw rowCorruptError(`array element ${index} of ${rootId}`);
      return entry.kind === "item" && entry.text === true ? jsonOfText(bytes) : bytes;
    });
    if (entries.every((entry) => entry.type === "json")) return this.#loadJsonElements(payloads);
    const values: unknown[] = new Array(entries.length);
    for (let index = 0; index < entries.length; index += 1) {
      values[index] = await this.#load(entries[index]!.type, payloads[index]!);
    }
    return values;
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
    const itemIds = [
      ...new Set(keyed.flatMap((entry) => (entry.kind === "item" ? [entry.itemId] : []))),
    ];
    const itemBytes =
      itemIds.length > 0 ? await reader.readItems(itemIds) : new Map<string, Uint8Array>();
    const values: unknown[] = new Array(keyed.length);
    // Serialized values load in JSON batches, as array elements do; nested trees on their own.
    const jsonPositions: number[] = [];
    const jsonPayloads: Uint8Array[] = [];
    for (const [index, entry] of keyed.entries()) {
      if (entry.kind === "tree") {
        values[index] = await this.decode(
          parseValueRef(entry.refJson, `${kind} ${rootId}`),
          reader,
        );
        continue;
      }
      const stored = entry.kind === "inline" ? entry.bytes : itemBytes.get(entry.itemId);
      if (stored === undefined) throw rowCorruptError(`${kind} entry ${index} of ${rootId}`);
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
