import { invalidArgumentError } from "../errors.js";

/** Digits only: `1e3`, `0x10`, `5.0` and `-1` are refused rather than guessed at. */
export function parseWholeNumber(argument: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgumentError(argument, text, `a whole number from ${min} to ${max}`);
  }
  return value;
}
