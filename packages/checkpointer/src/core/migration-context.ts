import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import type { BlobStore } from "@leangraph/serde";

/**
 * What a data migration may use besides its own connection: the saver's serializer (to read what
 * the saver stored with it) and blob store. Migrations that only change the schema are SQL
 * strings; the few that must compute a column from stored data are functions given this.
 */
export interface MigrationContext {
  serde: SerializerProtocol;
  blobStore: BlobStore;
}

/**
 * `created_at_ms` of a stored checkpoint: its own `ts`, read back through the serializer that
 * wrote it. A checkpoint without a parsable `ts` gets null, which retention treats as "age
 * unknown": such a checkpoint is never removed for its age.
 */
export async function storedCheckpointCreatedAtMs(
  context: MigrationContext,
  checkpointType: string,
  checkpoint: Uint8Array,
): Promise<number | null> {
  const skeleton = (await context.serde.loadsTyped(checkpointType, checkpoint)) as {
    ts?: unknown;
  };
  return createdAtMsOf(skeleton.ts);
}

/** Milliseconds of a checkpoint's ISO `ts`, or null when it has none. */
export function createdAtMsOf(ts: unknown): number | null {
  if (typeof ts !== "string") return null;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms : null;
}
