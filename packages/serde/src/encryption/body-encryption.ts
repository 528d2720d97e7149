import type { BodyLayer, BodyPlace } from "../body/body-layer.js";
import { keyedContentIds } from "../content-ids.js";
import { openEnvelope, sealEnvelope } from "./envelope.js";
import { type EncryptionKeySource, type KeyRing, keyRingResolver } from "./key-ring.js";

/** Where a body is, in the associated data and in errors. */
function bodySealPlace(place: BodyPlace) {
  return { bound: ["body", place.kind, place.id], where: `${place.kind} ${place.id}` };
}

/**
 * The encryption layer of stored bodies (blob-store blobs, database items), applied after
 * compression. Bound to kind and content id: a body copied under another id fails to open. Fails
 * closed: a body without an envelope is refused, never passed through. Names bodies with keyed
 * ids (content-ids.ts): a body it opened is proven by the tag, so no one re-hashes it.
 */
export function createEncryptionLayer(keys: EncryptionKeySource | KeyRing): BodyLayer {
  const ring = keyRingResolver(keys);
  return {
    name: "encryption",
    async encode(plain: Uint8Array, place: BodyPlace): Promise<Uint8Array> {
      return sealEnvelope(await ring(), plain, bodySealPlace(place));
    },
    async decode(stored: Uint8Array, place: BodyPlace): Promise<Uint8Array> {
      return openEnvelope(await ring(), stored, bodySealPlace(place));
    },
    async contentIds() {
      return keyedContentIds(await ring());
    },
  };
}

/** The blob store layers encryption adds: none without keys (compose after compression). */
export function encryptionLayers(keys: EncryptionKeySource | undefined): BodyLayer[] {
  return keys === undefined ? [] : [createEncryptionLayer(keys)];
}
