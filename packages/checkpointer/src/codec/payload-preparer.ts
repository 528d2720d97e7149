import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import {
  isStagedSerializer,
  type PreparedPayload,
  type StagedSerializer,
  UnserializableError,
} from "@leangraph/serde";
import { splitJsonArray } from "./json-array-split.js";
import type { ObjectSnapshot } from "./unchanged-object.js";
import { snapshotObject } from "./unchanged-object.js";

/** One value serialized for storage, and the blobs its bytes reference (none for stock serdes). */
export interface PreparedValue {
  type: string;
  bytes: Uint8Array;
  blobIds: readonly string[];
  /** Taken just before the serializer read the value; undefined when not asked for or not an object. */
  snapshot: ObjectSnapshot | undefined;
}

export interface PreparedValues {
  values: PreparedValue[];
  /** What the serializer must still write before these bytes may be stored. */
  toWrite: PreparedPayload[];
}

/**
 * Serializes values for the codec, whatever the serializer. A staged serializer
 * (RedactingSerializer) plans every payload with no I/O and says which blobs each references; its
 * blobs are written later, once the whole put is planned. Any other serializer (the stock
 * JsonPlusSerializer) writes nothing, so its payloads reference no blobs.
 *
 * Unserializable values raise UnserializableError with a path relative to the value (its first
 * step is the value's position in `values`).
 */
export interface PayloadPreparer {
  prepare(values: readonly unknown[], takeSnapshots: boolean): Promise<PreparedValues>;
}

export function payloadPreparerFor(serde: SerializerProtocol): PayloadPreparer {
  return isStagedSerializer(serde) ? stagedPreparer(serde) : plainPreparer(serde);
}

function snapshotIfObject(value: unknown): ObjectSnapshot | undefined {
  return typeof value === "object" && value !== null ? snapshotObject(value) : undefined;
}

function stagedPreparer(serde: StagedSerializer): PayloadPreparer {
  return {
    async prepare(values, takeSnapshots) {
      // Snapshots are taken right before the serializer reads the values, so they record
      // exactly the state that was serialized.
      const snapshots = takeSnapshots ? values.map(snapshotIfObject) : [];
      const payloads = await serde.prepare(values);
      return {
        values: payloads.map((payload, index) => ({
          type: payload.type,
          bytes: payload.bytes,
          blobIds: payload.blobIds,
          snapshot: snapshots[index],
        })),
        toWrite: payloads.filter((payload) => payload.blobIds.length > 0),
      };
    },
  };
}

/** Below this many values, separate serializer calls cost less than cutting one array text. */
const batchMinValues = 4;
/** Values per batch call: bounds one batch's JSON text for arrays of large objects. */
const batchMaxValues = 128;
const batchStringMaxChars = 64 * 1024;

function toBytes(payload: string | Uint8Array): Uint8Array {
  return typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
}

/**
 * One serializer call for a whole batch when it yields a plain JSON array that can be cut into
 * elements (byte for byte what it writes for each); one call per value otherwise.
 */
function plainPreparer(serde: SerializerProtocol): PayloadPreparer {
  const noBlobs: readonly string[] = Object.freeze([]);
  return {
    async prepare(values, takeSnapshots) {
      const prepared: PreparedValue[] = [];
      const snapshot = (value: unknown) => (takeSnapshots ? snapshotIfObject(value) : undefined);
      const one = async (value: unknown) => {
        const taken = snapshot(value);
        const [type, payload] = await serde.dumpsTyped(value);
        prepared.push({ type, bytes: toBytes(payload), blobIds: noBlobs, snapshot: taken });
      };
      let batch: unknown[] = [];
      const flush = async () => {
        if (batch.length >= batchMinValues) {
          const snapshots = batch.map(snapshot);
          const [type, payload] = await serde.dumpsTyped(batch);
          const parts =
            type === "json" ? splitJsonArray(toBytes(payload), batch.length) : undefined;
          if (parts !== undefined) {
            parts.forEach((bytes, index) => {
              prepared.push({ type: "json", bytes, blobIds: noBlobs, snapshot: snapshots[index] });
            });
            batch = [];
            return;
          }
        }
        for (const value of batch) await one(value);
        batch = [];
      };
      for (const value of values) {
        // Big strings go alone: a batch must never approach V8's string limit, and they gain
        // nothing from batching.
        if (typeof value === "string" && value.length > batchStringMaxChars) {
          await flush();
          await one(value);
          continue;
        }
        batch.push(value);
        if (batch.length >= batchMaxValues) await flush();
      }
      await flush();
      return { values: prepared, toWrite: [] };
    },
  };
}

/** Rewrites an unserializable error's first step (a position in a prepare call) to `step`. */
export function rebaseUnserializable(error: unknown, step: string | number | undefined): unknown {
  if (!(error instanceof UnserializableError)) return error;
  error.dropLeadingSteps(1);
  if (step !== undefined) error.prepend(step);
  return error;
}
