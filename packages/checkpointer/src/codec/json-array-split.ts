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
  if (bytes[0] !== openBracket || bytes[bytes.byteLength - 1] !== closeBracket) return undefined;
  const parts: Uint8Array[] = [];
  let depth = 0;
  let inString = false;
  let start = 1;
  for (let index = 1; index < bytes.byteLength - 1; index += 1) {
    const byte = bytes[index];
    if (inString) {
      if (byte === backslash) index += 1;
      else if (byte === quote) inString = false;
      continue;
    }
    if (byte === quote) inString = true;
    else if (byte === openBracket || byte === openBrace) depth += 1;
    else if (byte === closeBracket || byte === closeBrace) depth -= 1;
    else if (byte === comma && depth === 0) {
      parts.push(bytes.subarray(start, index));
      start = index + 1;
    }
  }
  if (depth !== 0 || inString) return undefined;
  if (bytes.byteLength > 2) parts.push(bytes.subarray(start, bytes.byteLength - 1));
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
