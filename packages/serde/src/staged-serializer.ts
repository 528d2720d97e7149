import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import type { PreparedPayload } from "./redacting/prepared-payload.js";

/**
 * A serializer whose blob writes can be separated from serializing, as RedactingSerializer's
 * are: `prepare` plans payloads with no I/O (and refuses what it cannot store), `writeBlobs`
 * stores what they reference. A saver prepares a whole checkpoint, writes the blobs, then records
 * each row's `blobIds`, so it learns which blobs are live from its own rows.
 */
export interface StagedSerializer extends SerializerProtocol {
  prepare(values: readonly unknown[]): Promise<PreparedPayload[]>;
  writeBlobs(payloads: readonly PreparedPayload[]): Promise<void>;
  /** The blobs a payload stored earlier depends on (reads blobs; for migrations). */
  referencedBlobIds(type: string, data: Uint8Array | string): Promise<string[]>;
}

export function isStagedSerializer(serde: SerializerProtocol): serde is StagedSerializer {
  const candidate = serde as Partial<StagedSerializer>;
  return (
    typeof candidate.prepare === "function" &&
    typeof candidate.writeBlobs === "function" &&
    typeof candidate.referencedBlobIds === "function"
  );
}
