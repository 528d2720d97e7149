import type { PreparedPayload } from "@leangraph/serde";
import type { ValueRef } from "./value-ref.js";

export type ItemKind = "value" | "leaf" | "inner";

/** An item an encode produced; the saver inserts it (idempotently: the id is its content hash). */
export interface NewItem {
  id: string;
  kind: ItemKind;
  bytes: Uint8Array;
  /** Large values go to the blob store; the row then has no body. */
  inBlobStore: boolean;
  /**
   * Blobs the serializer wrote that these bytes reference (for a leaf: its inline entries'),
   * as the serializer reported them. Recorded on the item row: what keeps them alive.
   */
  blobRefs: readonly string[];
}

export interface EncodedValue {
  ref: ValueRef;
  items: NewItem[];
  /**
   * Items the encoding points at without carrying their bytes (reused from the previous encode of
   * the same channel). The write transaction checks they still exist; if one was swept meanwhile,
   * the saver encodes again from scratch.
   */
  reusedItemIds: string[];
  /** Payloads whose blobs the serializer must write before the items are stored. */
  toWrite: PreparedPayload[];
}

/** Fetches item bytes by id, from the database or the blob store. */
export interface ItemReader {
  /**
   * `onItem`, when given, sees each body as soon as it is read and checked, before the rest
   * arrive: work done there overlaps the reads still in flight (blob reads and their
   * decompression run on the thread pool).
   */
  readItems(ids: readonly string[], onItem?: ItemArrival): Promise<Map<string, Uint8Array>>;
}

export type ItemArrival = (id: string, bytes: Uint8Array) => void;
