/**
 * Reads a payload that holds references. It revives bottom-up exactly like JsonPlusSerializer
 * (children first, then the lc:2 records it writes and lc:1 LangChain objects through
 * `@langchain/core/load`), with one addition: a reference is resolved, recursively, before its
 * parent is revived, so a Map, a message or a Set sees the real value, never the reference.
 */
import { pipeline, Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { load } from "@langchain/core/load";
import { DeltaSnapshot } from "@langchain/langgraph-checkpoint";
import { parserStream } from "stream-json";
import { streamArray } from "stream-json/streamers/stream-array.js";
import type { BlobStore } from "../blob-store.js";
import { LeangraphError, SerdeErrorCode } from "../errors.js";
import { reviveMessageRecord } from "../fast-load/message-record.js";
import {
  type BlobKind,
  isReservedString,
  parseReservedString,
  reservedPrefixCharCode,
} from "../reference-format.js";
import { readChunked } from "./chunk-manifest.js";
import type { StringBlobCache } from "./string-blob-cache.js";

export interface ReviveContext {
  readonly store: BlobStore;
  readonly stringCache: StringBlobCache;
  /** Strings are immutable, so one read serves every reference to the same blob in a payload. */
  readonly strings: Map<string, Promise<string>>;
}

type Revived = unknown | Promise<unknown>;

/** Returns synchronously when nothing below needs I/O, so large arrays avoid a promise per element. */
export function revive(node: unknown, context: ReviveContext): Revived {
  if (typeof node === "string") {
    return node.charCodeAt(0) === reservedPrefixCharCode && isReservedString(node)
      ? resolveReserved(node, context)
      : node;
  }
  if (typeof node !== "object" || node === null) return node;
  if (Array.isArray(node)) {
    const out = new Array(node.length);
    let waiting = false;
    for (let index = 0; index < node.length; index++) {
      const child = revive(node[index], context);
      if (child instanceof Promise) waiting = true;
      out[index] = child;
    }
    return waiting ? Promise.all(out) : out;
  }
  const keys = Object.keys(node);
  const values = new Array(keys.length);
  let waiting = false;
  for (let index = 0; index < keys.length; index++) {
    const child = revive((node as Record<string, unknown>)[keys[index]!], context);
    if (child instanceof Promise) waiting = true;
    values[index] = child;
  }
  return waiting
    ? Promise.all(values).then((resolved) => reviveObject(keys, resolved))
    : reviveObject(keys, values);
}

/** Assembles an object and revives the records JsonPlus writes, with its exact rules. */
function reviveObject(keys: string[], values: unknown[]): Revived {
  const object: Record<string, any> = {};
  for (let index = 0; index < keys.length; index++) object[keys[index]!] = values[index];
  if (object.lc === 2 && object.type === "undefined") return undefined;
  if (object.lc === 2 && object.type === "delta_snapshot" && Object.hasOwn(object, "value")) {
    return new DeltaSnapshot(object.value);
  }
  if (object.lc === 2 && object.type === "constructor") {
    return reviveConstructorRecord(object) ?? object;
  }
  if (object.lc === 1 && object.type === "constructor" && Array.isArray(object.id)) {
    return reviveMessageRecord(object) ?? load(JSON.stringify(object));
  }
  return object;
}

/** The closed set of lc:2 records JsonPlus writes; anything else stays an inert object. */
function reviveConstructorRecord(record: Record<string, any>): unknown {
  const { id, method, args } = record;
  if (!Array.isArray(id) || id.length !== 1 || !Array.isArray(args)) return undefined;
  const noMethod = method === undefined || method === null;
  const singleArray = args.length === 1 && Array.isArray(args[0]);
  switch (id[0]) {
    case "Set":
      return noMethod && singleArray ? new Set(args[0]) : undefined;
    case "Map":
      return noMethod &&
        singleArray &&
        args[0].every((entry: unknown) => Array.isArray(entry) && entry.length === 2)
        ? new Map(args[0])
        : undefined;
    case "RegExp":
      if (!noMethod || args.length !== 2) return undefined;
      if (typeof args[0] !== "string" || typeof args[1] !== "string") return undefined;
      try {
        return new RegExp(args[0], args[1]);
      } catch {
        return undefined;
      }
    case "Error":
      return noMethod && args.length === 1 && typeof args[0] === "string"
        ? new Error(args[0])
        : undefined;
    case "Uint8Array":
      return (noMethod || method === "from") &&
        singleArray &&
        args[0].every(
          (byte: unknown) =>
            Number.isInteger(byte) && (byte as number) >= 0 && (byte as number) <= 255,
        )
        ? new Uint8Array(args[0])
        : undefined;
    default:
      return undefined;
  }
}

function resolveReserved(text: string, context: ReviveContext): Revived {
  const parsed = parseReservedString(text);
  if (parsed.type === "escaped") return parsed.value;
  return resolveReference(parsed.kind, parsed.id, context);
}

export function resolveReference(kind: BlobKind, id: string, context: ReviveContext): Revived {
  switch (kind) {
    case "s":
    case "w": {
      let pending = context.strings.get(id);
      if (!pending) {
        pending = readString(id, kind === "w" ? "utf16le" : "utf8", context);
        context.strings.set(id, pending);
      }
      return pending;
    }
    case "b":
      return context.store.get(id).then((bytes) => new Uint8Array(bytes));
    case "j":
      return context.store.get(id).then((bytes) => revive(parseJson(bytes, id), context));
    case "a":
      return readStreamedArray(id, context, false);
    case "c": {
      let pending = context.strings.get(id);
      if (!pending) {
        pending = readChunkedValue(id, context) as Promise<string>;
        context.strings.set(id, pending);
      }
      // A chunked binary is a new Uint8Array per reference, as a `b` reference is.
      return pending.then((value) => (typeof value === "string" ? value : new Uint8Array(value)));
    }
    case "o":
      return readStreamedArray(id, context, true).then((entries) => {
        const pairs = entries as [string, unknown][];
        return reviveObject(
          pairs.map(([key]) => key),
          pairs.map(([, value]) => value),
        );
      });
  }
}

/** A chunked string (remembered like any large string) or binary. */
async function readChunkedValue(id: string, context: ReviveContext): Promise<string | Uint8Array> {
  const cached = context.stringCache.stringOf(id);
  if (cached !== undefined) return cached;
  const { value, chunkIds } = await readChunked(context.store, id);
  if (typeof value === "string") context.stringCache.remember(value, { id, kind: "c", chunkIds });
  return value;
}

async function readString(
  id: string,
  encoding: "utf8" | "utf16le",
  context: ReviveContext,
): Promise<string> {
  const cached = context.stringCache.stringOf(id);
  if (cached !== undefined) return cached;
  const decoder = new StringDecoder(encoding);
  const parts: string[] = [];
  for await (const chunk of context.store.getStream(id)) parts.push(decoder.write(chunk as Buffer));
  parts.push(decoder.end());
  const text = parts.join("");
  context.stringCache.remember(text, { id, kind: encoding === "utf8" ? "s" : "w" });
  return text;
}

function parseJson(bytes: Uint8Array, id: string): unknown {
  try {
    return JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
    );
  } catch (error) {
    throw corruptBlob(id, error);
  }
}

function corruptBlob(id: string, cause: unknown): LeangraphError {
  return new LeangraphError(
    SerdeErrorCode.payloadCorrupt,
    `Blob ${id} does not hold the JSON its reference promises.`,
    { cause, hint: "The blob was replaced by other content with a valid id; restore it." },
  );
}

/**
 * Reads a JSON array too large for one string, element by element with stream-json, reviving each
 * element as it arrives. For kind `o` the elements are `[key, value]` pairs and only values revive.
 */
async function readStreamedArray(
  id: string,
  context: ReviveContext,
  entries: boolean,
): Promise<unknown[]> {
  const elements = pipeline(
    Readable.from(context.store.getStream(id)),
    parserStream({ streamValues: false }),
    streamArray.asStream({ readableHighWaterMark: 4096 } as object),
    () => {},
  );
  const out: unknown[] = [];
  try {
    for await (const batch of readInBatches(elements)) {
      for (const item of batch) {
        let element = (item as { value: unknown }).value;
        if (entries) {
          if (!Array.isArray(element) || element.length !== 2 || typeof element[0] !== "string") {
            throw corruptBlob(id, new Error("expected [key, value] pairs"));
          }
          const value = revive(element[1], context);
          element[1] = value instanceof Promise ? await value : value;
        } else {
          const value = revive(element, context);
          element = value instanceof Promise ? await value : value;
        }
        out.push(element);
      }
    }
  } catch (error) {
    if (error instanceof LeangraphError) throw error;
    throw corruptBlob(id, error);
  }
  return out;
}

/**
 * Drains an object-mode stream in whatever batches are buffered: `for await` over the stream
 * itself costs a promise per element, which dominated reading a 5M-element array.
 */
async function* readInBatches(stream: Readable): AsyncGenerator<unknown[]> {
  let failure: unknown;
  let ended = false;
  stream.on("error", (error) => {
    failure = error;
  });
  stream.on("end", () => {
    ended = true;
  });
  for (;;) {
    const batch: unknown[] = [];
    for (let item = stream.read(); item !== null; item = stream.read()) batch.push(item);
    if (batch.length > 0) yield batch;
    if (failure !== undefined) throw failure;
    if (ended || stream.readableEnded) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        stream.off("readable", wake);
        stream.off("end", wake);
        stream.off("error", wake);
        resolve();
      };
      stream.on("readable", wake);
      stream.on("end", wake);
      stream.on("error", wake);
    });
  }
}
