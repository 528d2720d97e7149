import { DemoErrorCode, LeangraphError } from "./errors.js";

const unitBytes: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Parses `13kb`, `200KB`, `2.5mb` or a plain byte count. Units are binary (1 kb = 1024 bytes),
 * the way `--size 200kb` lines up with the serializer's 200 KB string threshold.
 */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!match) {
    throw new LeangraphError(
      DemoErrorCode.invalidOption,
      `"${text}" is not a size; expected a number with an optional unit b, kb, mb or gb (e.g. 13kb, 2mb)`,
    );
  }
  const unit = (match[2] ?? "b").toLowerCase();
  return Math.round(Number(match[1]) * unitBytes[unit]!);
}

/** `1536` -> `1.5 KB`; binary units, one decimal where it helps. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "n/a";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}
