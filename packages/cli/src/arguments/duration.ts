import { invalidArgumentError } from "../errors.js";

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const unitMs: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const acceptedDuration =
  "a number with a unit: ms, s, m, h, d or w (e.g. 90s, 1h, 30d), at most 100 years";
const maxDurationMs = 100 * 365 * 86_400_000;

/**
 * `30d` → 2,592,000,000. A bare number is refused: "30" could mean seconds or days, and a
 * retention flag read the wrong way deletes data.
 */
export function parseDurationMs(argument: string, text: string): number {
  const match = durationPattern.exec(text.trim());
  if (!match) throw invalidArgumentError(argument, text, acceptedDuration);
  const ms = Math.round(Number(match[1]) * unitMs[match[2]!]!);
  if (!Number.isSafeInteger(ms) || ms > maxDurationMs) {
    throw invalidArgumentError(argument, text, acceptedDuration);
  }
  return ms;
}
