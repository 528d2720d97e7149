import { JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import type { BlobStore } from "./blob-store.js";
import { type ContentIds, contentIdsOf } from "./content-ids.js";
import { LeangraphError, SerdeErrorCode } from "./errors.js";
import { loadJsonPlusPayload } from "./fast-load/json-plus-payload.js";
import { parseRedactingSerializerOptions, type RedactingSerializerLimits } from "./options.js";
import { BlobSlot } from "./redacting/blob-slot.js";
import {
  createEncodeContext,
  type EncodeContext,
  encodeDeferredSlots,
  encodeUnit,
} from "./redacting/encode-value.js";
import { estimateJsonBytes, fitToBudget } from "./redacting/fit-budget.js";
import { blobReferencesOf, createSlotHasher, hashSlotsWithin } from "./redacting/pending-blobs.js";
import {
  type PreparedPayload,
  pendingBlobsOf,
  preparedPayload,
} from "./redacting/prepared-payload.js";
import { revive } from "./redacting/revive-value.js";
import { StringBlobCache } from "./redacting/string-blob-cache.js";
import { UnserializableError } from "./redacting/unserializable.js";
import { writePendingBlobs } from "./redacting/write-blobs.js";
import { WrittenChunkIds } from "./redacting/written-chunk-ids.js";
import { collectReferencedBlobIds } from "./referenced-blobs.js";
import { createFsBlobStore } from "./stores/fs.js";

export interface RedactingSerializerOptions extends Partial<RedactingSerializerLimits> {
  /**
   * Where externalized values go. Share it with the checkpointer so its gc sees every blob.
   * @default createFsBlobStore({ dir: ".lg-blobs" })
   */
  blobStore?: BlobStore;
  /**
   * Reads payloads that hold no references and every non-"json" type (top-level `bytes`). It must
   * read the JsonPlus format, which this serializer writes. Also what `LG_REDACTING_SERDE=off`
   * hands back.
   * @default new JsonPlusSerializer()
   */
  inner?: SerializerProtocol;
}

/**
 * A blob written as one JSON string stays below this; larger arrays and objects are streamed
 * element by element. Far below V8's 536,870,888-char limit even if every char needed escaping.
 */
const singleJsonMaxBytes = 32 * 1024 * 1024;
/** Above this estimate the root is not even stringified for measuring; it goes to a blob whole. */
const measurableRootBytes = 64 * 1024 * 1024;
const fitAttempts = 4;

const utf8 = new TextEncoder();
const reservedPrefixBytes = Buffer.from("\uE000lg:", "utf8");
/** Matches `\ue000lg:` / `\uE000lg:` as another JSON writer might have escaped our prefix. */
const escapedPrefixTail = Buffer.from("000lg:", "utf8");

/**
 * A lossless `SerializerProtocol` for LangGraph checkpoints: the payload stays small JSON in
 * JsonPlus format, and whatever would make it large (long strings, big binaries, long arrays,
 * wide objects, deep nesting) moves to a content-addressed blob store behind a reference.
 *
 * Guarantees: `dumpsTyped` output never exceeds `maxPayloadBytes`; it never returns a placeholder;
 * what cannot be stored losslessly throws a LeangraphError (ERR_LG_UNSERIALIZABLE,
 * ERR_LG_PAYLOAD_TOO_LARGE) before any blob is written.
 */
export class RedactingSerializer implements SerializerProtocol {
  readonly blobStore: BlobStore;
  readonly inner: SerializerProtocol;
  readonly limits: Readonly<RedactingSerializerLimits>;
  private readonly stringCache: StringBlobCache;
  private readonly writtenChunks = new WrittenChunkIds();
  #contentIds: Promise<ContentIds> | undefined;

  constructor(options: RedactingSerializerOptions = {}) {
    const { blobStore, inner, ...limits } = parseRedactingSerializerOptions(options);
    this.limits = Object.freeze(limits);
    this.blobStore = blobStore ?? createFsBlobStore({ dir: ".lg-blobs" });
    this.inner = inner ?? new JsonPlusSerializer();
    this.stringCache = new StringBlobCache(this.limits.stringCacheBytes);
  }

  async dumpsTyped(value: unknown): Promise<[string, Uint8Array]> {
    const [payload] = await this.prepare([value]);
    await this.writeBlobs([payload!]);
    return [payload!.type, payload!.bytes];
  }

  /**
   * The first phase of `dumpsTyped`, for many values at once: each value's payload and every blob
   * it references, with nothing written. Everything that can be refused is refused here, before
   * any I/O: a value that cannot be stored throws ERR_LG_UNSERIALIZABLE (an UnserializableError
   * whose `path` starts with the value's index in `values`), one that cannot fit throws
   * ERR_LG_PAYLOAD_TOO_LARGE. Store the payloads only after `writeBlobs` resolved.
   */
  async prepare(values: readonly unknown[]): Promise<PreparedPayload[]> {
    this.stringCache.advance();
    const prepared: PreparedPayload[] = [];
    for (const [index, value] of values.entries()) {
      try {
        prepared.push(await this.prepareOne(value));
      } catch (error) {
        if (error instanceof UnserializableError) error.prepend(index);
        throw error;
      }
    }
    return prepared;
  }

  /**
   * The second phase: stores every blob the payloads reference, each once. Blobs the string
   * cache says were written before are only checked to still exist (and written again if a gc
   * removed them). Resolves when every blob is durable.
   */
  async writeBlobs(payloads: readonly PreparedPayload[]): Promise<void> {
    await writePendingBlobs(this.blobStore, pendingBlobsOf(payloads), this.writtenChunks);
  }

  /**
   * Every blob a stored payload depends on, following references inside JSON blobs (so it reads
   * those). For tools that must learn this from bytes written earlier (a saver's migration);
   * savers learn it from `prepare` instead. Any blob it cannot read fails the call.
   */
  async referencedBlobIds(type: string, data: Uint8Array | string): Promise<string[]> {
    if (type !== "json" || !mayHoldReferences(data)) return [];
    return [...(await collectReferencedBlobIds(data, this.blobStore))];
  }

  /** How the store names blobs (asked once: an encrypting store's ring resolves once too). */
  private contentIds(): Promise<ContentIds> {
    this.#contentIds ??= contentIdsOf(this.blobStore).catch((error: unknown) => {
      this.#contentIds = undefined;
      throw error;
    });
    return this.#contentIds;
  }

  private async prepareOne(value: unknown): Promise<PreparedPayload> {
    const { maxPayloadBytes } = this.limits;
    const context = createEncodeContext(this.limits, this.stringCache);
    let tree: unknown;
    if (value instanceof Uint8Array) {
      // Top level, stock returns ["bytes", value] untouched (Buffer included, no toJSON); we do
      // too unless it is large, then it becomes a reference in a "json" payload.
      if (value.byteLength <= context.maxInlineBinaryBytes) {
        const [type, bytes] = await this.inner.dumpsTyped(value);
        return preparedPayload(type, toBytes(bytes), []);
      }
      tree = new BlobSlot({ type: "binary", value }, "b");
      context.slots.push(tree as BlobSlot);
    } else {
      tree = encodeWithTypedErrors(value, context);
    }

    // Fast path: nothing crossed a threshold and the payload is clearly small.
    if (context.slots.length === 0 && context.approxBytes <= maxPayloadBytes) {
      const bytes = utf8.encode(JSON.stringify(tree));
      if (bytes.byteLength <= maxPayloadBytes) return preparedPayload("json", bytes, []);
    }

    // The budget is only fitted when the rough size says it may be needed: a state that keeps
    // one big (cached) string otherwise costs one stringify.
    const hasher = createSlotHasher(
      await this.contentIds(),
      this.stringCache,
      this.limits.chunkMinBytes,
      this.writtenChunks,
    );
    let root = context.approxBytes > maxPayloadBytes ? this.fitRoot(tree, context) : tree;
    planBlobUnits(context);
    await hashSlotsWithin(hasher, root);
    let bytes = utf8.encode(JSON.stringify(root));
    if (bytes.byteLength > maxPayloadBytes) {
      root = this.fitRoot(root, context);
      planBlobUnits(context);
      await hashSlotsWithin(hasher, root);
      bytes = utf8.encode(JSON.stringify(root));
    }
    if (bytes.byteLength > maxPayloadBytes) {
      throw payloadTooLarge(bytes.byteLength, maxPayloadBytes);
    }
    const { direct, children, closure } = blobReferencesOf(root);
    return preparedPayload(
      "json",
      bytes,
      closure.map((id) => hasher.pending.get(id)!),
      direct,
      children,
    );
  }

  async loadsTyped(type: string, data: Uint8Array | string): Promise<any> {
    if (type !== "json") return this.inner.loadsTyped(type, data);
    if (!mayHoldReferences(data)) return loadJsonPlusPayload(this.inner, data);
    const text =
      typeof data === "string"
        ? data
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
    let tree: unknown;
    try {
      tree = JSON.parse(text);
    } catch (error) {
      throw new LeangraphError(SerdeErrorCode.payloadCorrupt, "A stored payload is not JSON.", {
        cause: error,
      });
    }
    return revive(tree, {
      store: this.blobStore,
      stringCache: this.stringCache,
      strings: new Map(),
    });
  }

  /**
   * Externalizes the largest parts of the root until the payload fits maxPayloadBytes, measured
   * on the real JSON (references carry a placeholder id of the final length until written).
   */
  private fitRoot(tree: unknown, context: EncodeContext): unknown {
    const maxPayloadBytes = this.limits.maxPayloadBytes;
    const holder: Record<string, unknown> = { root: tree };
    let target = maxPayloadBytes;
    for (let attempt = 0; attempt < fitAttempts; attempt++) {
      const estimate = fitToBudget(holder, "root", target, context);
      if (estimate > measurableRootBytes) break;
      // The estimate counts UTF-16 units and no escapes; measure the real bytes to be sure.
      const measured = Buffer.byteLength(JSON.stringify(holder.root), "utf8");
      if (measured <= maxPayloadBytes) return holder.root;
      target = Math.floor((target * maxPayloadBytes * 0.9) / measured);
    }
    // Even the structure alone is too big (e.g. thousands of huge keys): the root goes whole.
    const slot = new BlobSlot({ type: "tree", value: holder.root }, "j");
    context.slots.push(slot);
    return slot;
  }
}

/**
 * Chooses how each externalized subtree is written: one JSON string when small enough, otherwise
 * streamed element by element with every element fitted below the single-string bound. Slots
 * created here are appended to `context.slots` and planned by the same loop.
 */
function planBlobUnits(context: EncodeContext): void {
  for (let index = 0; index < context.slots.length; index++) {
    const slot = context.slots[index]!;
    if (slot.content.type !== "tree" || slot.planned) continue;
    slot.planned = true;
    const tree = slot.content.value as Record<string | number, unknown>;
    if (estimateJsonBytes(tree) <= singleJsonMaxBytes) {
      slot.kind = "j";
      continue;
    }
    slot.kind = Array.isArray(tree) ? "a" : "o";
    const keys: (string | number)[] = Array.isArray(tree)
      ? Array.from(tree.keys())
      : Object.keys(tree);
    for (const key of keys) {
      const child = tree[key];
      if (typeof child !== "object" || child === null || child instanceof BlobSlot) {
        if (typeof child !== "string" || child.length < singleJsonMaxBytes / 6) continue;
      }
      if (fitToBudget(tree, key, singleJsonMaxBytes, context) > singleJsonMaxBytes) {
        const elementSlot = new BlobSlot({ type: "tree", value: tree[key] }, "j");
        context.slots.push(elementSlot);
        tree[key] = elementSlot;
      }
    }
  }
}

function encodeWithTypedErrors(value: unknown, context: EncodeContext): unknown {
  try {
    const tree = encodeUnit(value, context);
    encodeDeferredSlots(context);
    return tree;
  } catch (error) {
    if (error instanceof LeangraphError) throw error;
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new UnserializableError("a value whose toJSON() result is nested too deeply to walk", {
        cause: error,
        hint: "Flatten the object whose toJSON() returns a deep structure.",
      });
    }
    throw new UnserializableError(
      `a value that failed to serialize (${(error as Error)?.message ?? String(error)})`,
      { cause: error },
    );
  }
}

function toBytes(payload: string | Uint8Array): Uint8Array {
  return typeof payload === "string" ? utf8.encode(payload) : payload;
}

function mayHoldReferences(data: Uint8Array | string): boolean {
  if (typeof data === "string") return data.includes("\uE000lg:") || /\\u[eE]000lg:/.test(data);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return bytes.includes(reservedPrefixBytes) || bytes.includes(escapedPrefixTail);
}

function payloadTooLarge(bytes: number, maxBytes: number): LeangraphError {
  return new LeangraphError(
    SerdeErrorCode.payloadTooLarge,
    `The payload is ${bytes} bytes after externalizing everything possible; the limit is ${maxBytes}.`,
    { hint: "Raise LG_MAX_CHECKPOINT_SIZE or keep fewer, smaller keys in state." },
  );
}
