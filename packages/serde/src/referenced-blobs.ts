import { StringDecoder } from "node:string_decoder";
import type { BlobStore } from "./blob-store.js";
import { LeangraphError, SerdeErrorCode } from "./errors.js";
import { referencedBlobs } from "./reference-format.js";

/** Longest reference text, so a reference split across two chunks is still seen whole. */
const carryChars = 128;

/**
 * Every blob a payload depends on, following references inside externalized JSON blobs (kinds
 * `j`, `a`, `o`) transitively, streaming them so a 1.5 GB array blob is never held in memory.
 * Meant for a garbage collector: it may over-report (a user string that merely contains reference
 * text keeps that blob alive), never under-report. A referenced blob that is missing is reported
 * and not followed.
 */
export async function collectReferencedBlobIds(
  payload: Uint8Array | string,
  store: BlobStore,
): Promise<Set<string>> {
  const found = new Set<string>();
  const toFollow: string[] = [];
  const visit = (text: string) => {
    for (const { kind, id } of referencedBlobs(text)) {
      if (found.has(id)) continue;
      found.add(id);
      if (kind === "j" || kind === "a" || kind === "o") toFollow.push(id);
    }
  };
  visit(typeof payload === "string" ? payload : Buffer.from(payload).toString("utf8"));
  while (toFollow.length > 0) {
    const id = toFollow.pop()!;
    const decoder = new StringDecoder("utf8");
    let carry = "";
    try {
      for await (const chunk of store.getStream(id)) {
        const text = carry + decoder.write(chunk as Buffer);
        visit(text);
        carry = text.slice(-carryChars);
      }
    } catch (error) {
      if (error instanceof LeangraphError && error.code === SerdeErrorCode.blobMissing) continue;
      throw error;
    }
    visit(carry + decoder.end());
  }
  return found;
}
