/**
 * The blob behind a `c` reference: a string or binary stored as content-defined chunks, each
 * chunk a blob of its own. Every chunk is an independent body, so layers over a blob store
 * (compression, encryption) apply per chunk, and chunks shared between versions of a file are
 * stored once.
 *
 * Manifest bytes (binary, so a new version of a file costs 32 bytes per chunk, not ~67):
 * "LGC1", one byte for how the joined chunk bytes decode (`s` UTF-8, `w` UTF-16LE, `b` raw
 * bytes), the total byte length as a big-endian uint64, then each chunk's 32-byte content id (the
 * store's: sha256, or keyed under encryption).
 */
import { StringDecoder } from "node:string_decoder";
import type { BlobStore } from "../blob-store.js";
import type { ContentIds } from "../content-ids.js";
import { LeangraphError, SerdeErrorCode } from "../errors.js";
import { contentChunks } from "./content-chunks.js";

export type ChunkedContent = "s" | "w" | "b";

export interface ChunkManifest {
  content: ChunkedContent;
  bytes: number;
  chunkIds: string[];
}

export interface ChunkedBlob {
  manifestId: string;
  manifestBytes: Uint8Array;
  chunks: { id: string; bytes: Uint8Array }[];
}

const magic = Buffer.from("LGC1", "latin1");
const headerBytes = magic.byteLength + 1 + 8;

/** Cuts `bytes` into content-defined chunks and describes them, named by `ids`; nothing is written. */
export function chunkBlob(
  bytes: Uint8Array,
  content: ChunkedContent,
  ids: ContentIds,
): ChunkedBlob {
  const chunks = contentChunks(bytes).map((chunk) => ({ id: ids.of(chunk), bytes: chunk }));
  const header = Buffer.alloc(headerBytes);
  magic.copy(header, 0);
  header[magic.byteLength] = content.charCodeAt(0);
  header.writeBigUInt64BE(BigInt(bytes.byteLength), magic.byteLength + 1);
  const manifestBytes = Buffer.concat([
    header,
    ...chunks.map((chunk) => Buffer.from(chunk.id, "hex")),
  ]);
  return { manifestId: ids.of(manifestBytes), manifestBytes, chunks };
}

export function parseManifest(id: string, bytes: Uint8Array): ChunkManifest {
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const content = String.fromCharCode(buffer[magic.byteLength] ?? 0);
    if (
      buffer.byteLength < headerBytes ||
      !buffer.subarray(0, magic.byteLength).equals(magic) ||
      (content !== "s" && content !== "w" && content !== "b") ||
      (buffer.byteLength - headerBytes) % 32 !== 0
    )
      throw new Error("not a chunk manifest");
    const chunkIds: string[] = [];
    for (let offset = headerBytes; offset < buffer.byteLength; offset += 32)
      chunkIds.push(buffer.toString("hex", offset, offset + 32));
    const total = buffer.readBigUInt64BE(magic.byteLength + 1);
    return { content, bytes: Number(total), chunkIds };
  } catch (error) {
    throw new LeangraphError(
      SerdeErrorCode.payloadCorrupt,
      `Blob ${id} does not hold the chunk list its reference promises.`,
      { cause: error, hint: "The blob was replaced by other content with a valid id; restore it." },
    );
  }
}

/** Reads a chunked value back, verifying every chunk (the store checks each against its id). */
export async function readChunked(
  store: BlobStore,
  manifestId: string,
): Promise<{ value: string | Uint8Array; chunkIds: string[] }> {
  const manifest = parseManifest(manifestId, await store.get(manifestId));
  const chunks: Uint8Array[] = [];
  for (const [index, chunkId] of manifest.chunkIds.entries()) {
    try {
      chunks.push(await store.get(chunkId));
    } catch (error) {
      if (!(error instanceof LeangraphError)) throw error;
      throw new LeangraphError(
        error.code,
        `Chunk ${index + 1} of ${manifest.chunkIds.length} (blob ${chunkId}) of the value stored as blob ${manifestId}: ${error.message}`,
        { cause: error, hint: error.hint },
      );
    }
  }
  const joined = Buffer.concat(chunks);
  if (joined.byteLength !== manifest.bytes) {
    throw new LeangraphError(
      SerdeErrorCode.payloadCorrupt,
      `The chunks of blob ${manifestId} hold ${joined.byteLength} bytes; its manifest says ${manifest.bytes}.`,
    );
  }
  const chunkIds = manifest.chunkIds;
  if (manifest.content === "b") return { value: new Uint8Array(joined), chunkIds };
  const decoder = new StringDecoder(manifest.content === "w" ? "utf16le" : "utf8");
  return { value: decoder.write(joined) + decoder.end(), chunkIds };
}
