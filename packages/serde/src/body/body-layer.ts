import type { ContentIds } from "../content-ids.js";

/** What a stored body is and where it belongs: bound into encryption's associated data and
 *  named in errors. */
export interface BodyPlace {
  kind: "blob" | "item"; // a blob-store body or a database item body
  id: string; // its content id (sha256 hex of the plain bytes, or a keyed id)
}

/** One reversible transformation of a stored body (compression, encryption). */
export interface BodyLayer {
  readonly name: string;
  encode(plain: Uint8Array, place: BodyPlace): Promise<Uint8Array>;
  /** Must refuse (coded error naming place) what it cannot prove it wrote, if it fails closed. */
  decode(stored: Uint8Array, place: BodyPlace): Promise<Uint8Array>;
  /**
   * Present on a layer that names bodies itself and proves every body it decodes against its
   * place (encryption: keyed ids, and a GCM tag bound to kind and id). A store with such a layer
   * names bodies by these ids and does not re-hash what the layer opened.
   */
  contentIds?(): Promise<ContentIds>;
}
