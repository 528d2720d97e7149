/**
 * Durations as people write them in flags and on command lines: `1500ms`, `90s`, `30m`, `12h`,
 * `30d`. A unit is required: a bare `30` could mean seconds, minutes or days.
 */
const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const durationPattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i;

/** What a duration flag or argument accepts, for error messages. */
export const acceptedDuration = "a duration such as 1500ms, 90s, 30m, 12h or 30d";

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const match = durationPattern.exec(text);
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * unitMs[match[2]!.toLowerCase()]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
