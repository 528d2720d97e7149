/**
 * Content-defined chunking (FastCDC's gear hash with normalized chunking): boundaries are chosen
 * by the bytes themselves, so an edit only changes the chunks around it and an insertion shifts
 * nothing after the next boundary. A file that is rewritten with one function changed stores a
 * chunk or two, not the whole file again (restic and borg cut backups the same way).
 *
 * Sizes, measured on issue 13's edit loop (20 files of ~290 KB, 200 edits of 1% of one file's
 * lines): see `chunkSizes` below.
 */
import { createHash } from "node:crypto";

export interface ChunkSizes {
  minBytes: number;
  averageBytes: number;
  maxBytes: number;
}

/**
 * 2 / 8 / 64 KiB. Smaller averages store less per edit but add a manifest entry (~67 bytes) and a
 * blob per chunk; on the edit loop 8 KiB stored the fewest bytes (see the checkpointer README).
 */
export const chunkSizes: ChunkSizes = { minBytes: 2048, averageBytes: 8192, maxBytes: 65536 };

/** 256 fixed pseudo-random 32-bit values, the same in every process (boundaries must be stable). */
const gear = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index += 1)
    table[index] = createHash("sha256").update(`leangraph gear ${index}`).digest().readUInt32LE(0);
  return table;
})();

function maskOfBits(bits: number): number {
  // The high bits of a 32-bit gear hash mix best: test those.
  return bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * Where each chunk of `bytes` ends. Normalized chunking: a stricter mask before the average size
 * and a looser one after it keeps chunk sizes close to the average.
 */
export function chunkBoundaries(bytes: Uint8Array, sizes: ChunkSizes = chunkSizes): number[] {
  const averageBits = Math.round(Math.log2(sizes.averageBytes));
  const strict = maskOfBits(averageBits + 1);
  const loose = maskOfBits(averageBits - 1);
  const ends: number[] = [];
  let start = 0;
  while (start < bytes.length) {
    const remaining = bytes.length - start;
    if (remaining <= sizes.minBytes) {
      ends.push(bytes.length);
      break;
    }
    const limit = Math.min(remaining, sizes.maxBytes);
    const normal = Math.min(limit, sizes.averageBytes);
    let hash = 0;
    let offset = sizes.minBytes;
    let end = start + limit;
    for (; offset < normal; offset += 1) {
      hash = ((hash << 1) + gear[bytes[start + offset]!]!) >>> 0;
      if ((hash & strict) === 0) {
        end = start + offset + 1;
        break;
      }
    }
    if (offset >= normal) {
      for (; offset < limit; offset += 1) {
        hash = ((hash << 1) + gear[bytes[start + offset]!]!) >>> 0;
        if ((hash & loose) === 0) {
          end = start + offset + 1;
          break;
        }
      }
    }
    ends.push(end);
    start = end;
  }
  return ends;
}

/** The chunks of `bytes` (views, not copies). */
export function contentChunks(bytes: Uint8Array, sizes: ChunkSizes = chunkSizes): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const end of chunkBoundaries(bytes, sizes)) {
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}
