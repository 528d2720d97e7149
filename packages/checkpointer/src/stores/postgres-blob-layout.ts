/*
 * How a blob is cut into rows of lg_blob_parts (blob_key BIGINT, seq INTEGER, bytes BYTEA with
 * STORAGE PLAIN), so that Postgres stores the bytes in heap pages as they are: no TOAST, whose
 * ~2 KB chunks, four to a page, plus a TOAST index cost 4-8 % on top of the payload.
 *
 * On an 8 KB page (Postgres's default block size) the largest heap tuple is 8160 B
 * (MaxHeapTupleSize: 8192 minus the page header and one line pointer). A part row spends 24 B on
 * the tuple header, 8 on blob_key, 4 on seq and 4 on the bytea length word, leaving 8120 B of
 * payload: exactly one row per page, 99.1 % of the page. A larger value would be rejected
 * ("row is too big"), because PLAIN storage never moves it out of line.
 */
export const maxPartBytes = 8120;

/*
 * What is left after the full-page parts (up to 8 KB per blob) is cut into quarter-page pieces:
 * a quarter of the 8168 B after the page header, minus a line pointer, rounded down to 8-byte
 * alignment, is 2032 B per tuple, 1992 B of payload. A tail in one row would end its blob on a
 * page of its own, wasting on average half a page per blob (and a full 3 KB per 200 KB blob);
 * small pieces are placed by the free-space map into the gaps other tails left, as TOAST does.
 */
export const tailPieceBytes = 1992;

/** Full parts, then the remainder as tail pieces (an empty blob has no parts). */
export function partLengths(byteLength: number, partBytes: number): number[] {
  const lengths: number[] = [];
  let offset = 0;
  for (; byteLength - offset >= partBytes; offset += partBytes) lengths.push(partBytes);
  return [...lengths, ...tailLengths(byteLength - offset, partBytes)];
}

/** The pieces of a remainder shorter than one part. */
export function tailLengths(remainder: number, partBytes: number): number[] {
  const pieceBytes = Math.min(partBytes, tailPieceBytes);
  const lengths: number[] = [];
  for (let offset = 0; offset < remainder; offset += pieceBytes)
    lengths.push(Math.min(pieceBytes, remainder - offset));
  return lengths;
}
