/**
 * Splits the UTF-8 JSON text of an array into its top-level element texts without parsing them.
 *
 * Why: serializing a 200-message array with one serializer call and cutting the result is several
 * times cheaper than 200 calls, and the cut pieces are byte-for-byte what the serializer writes
 * for each element (JSON.stringify's array output is "[" + elements joined by "," + "]").
 * Structural bytes are ASCII and never occur inside a multi-byte UTF-8 sequence, so scanning
 * bytes is safe. Returns undefined for anything that is not a plain compact array, and the caller
 * falls back to one call per element.
 */
const openBracket = 0x5b;
const closeBracket = 0x5d;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;

export function splitJsonArray(
  bytes: Uint8Array,
  expectedLength: number,
): Uint8Array[] | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const last = buffer.byteLength - 1;
  if (buffer[0] !== openBracket || buffer[last] !== closeBracket) return undefined;
  const parts: Uint8Array[] = [];
  let depth = 0;
  let start = 1;
  let index = 1;
  while (index < last) {
    const byte = buffer[index];
    if (byte === quote) {
      // Most bytes are string contents: jump from quote to quote natively instead of byte by
      // byte; a quote preceded by an odd run of backslashes is escaped and does not close.
      let close = index;
      for (;;) {
        close = buffer.indexOf(quote, close + 1);
        if (close === -1 || close > last) return undefined;
        let backslashes = 0;
        while (buffer[close - 1 - backslashes] === backslash) backslashes += 1;
        if (backslashes % 2 === 0) break;
      }
      index = close + 1;
      continue;
    }
    if (byte === openBracket || byte === openBrace) depth += 1;
    else if (byte === closeBracket || byte === closeBrace) depth -= 1;
    else if (byte === comma && depth === 0) {
      parts.push(buffer.subarray(start, index));
      start = index + 1;
    }
    index += 1;
  }
  if (depth !== 0) return undefined;
  if (last > 1) parts.push(buffer.subarray(start, last));
  return parts.length === expectedLength && parts.every((part) => part.byteLength > 0)
    ? parts
    : undefined;
}

/** Joins element texts back into one array text, the inverse of splitJsonArray. */
export function joinJsonArray(parts: readonly Uint8Array[]): Buffer {
  const pieces: Uint8Array[] = [Buffer.of(openBracket)];
  parts.forEach((part, index) => {
    if (index > 0) pieces.push(Buffer.of(comma));
    pieces.push(part);
  });
  pieces.push(Buffer.of(closeBracket));
  return Buffer.concat(pieces);
}
