import { type BlobKind, formatReference, placeholderBlobId } from "../reference-format.js";

/** What an externalized value holds until it is written. */
export type SlotContent =
  | { type: "string"; value: string }
  | { type: "binary"; value: Uint8Array }
  /** A JSON-ready subtree (plain objects, arrays, primitives and other slots). */
  | { type: "tree"; value: unknown }
  /** A value below the depth limit, encoded later from a fresh stack (see encode-value.ts). */
  | { type: "deferred"; value: object; ancestors: Set<object> };

/**
 * Stands in the JSON-ready tree where an externalized value was. `JSON.stringify` calls its
 * `toJSON`, so the tree serializes to the reference with no replacer on the hot path; before the
 * blob is written the reference carries a placeholder id of the same length.
 */
export class BlobSlot {
  id: string | undefined;
  kind: BlobKind;
  /** Set once the writer's format (`j`, or streamed `a`/`o`) is chosen for a tree. */
  planned = false;
  /** For a `c` slot: the chunks its manifest lists (payloads referencing it name them too). */
  chunkIds: readonly string[] | undefined;

  constructor(
    public content: SlotContent,
    kind: BlobKind,
    id?: string,
  ) {
    this.kind = kind;
    this.id = id;
  }

  toJSON(): string {
    return formatReference(this.kind, this.id ?? placeholderBlobId);
  }
}
