/**
 * Durations as people write them in flags and on command lines: `1500ms`, `90s`, `30m`, `12h`,
 * `30d`, `2w`. The one grammar of every leangraph duration (LG_RETENTION_MAX_AGE,
 * LG_RETENTION_SWEEP_INTERVAL, `leangraph prune --older-than`).
 *
 * A unit is required: a bare `30` could mean seconds or days, and a retention age read the wrong
 * way deletes data. Units are lower case only: `6M` (months?) must not quietly mean six minutes.
 */
const unitMs: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const maxDurationMs = 100 * 365 * 86_400_000;

/** What a duration flag or argument accepts, for error messages. */
export const acceptedDuration =
  "a number with a unit: ms, s, m, h, d or w (e.g. 1500ms, 90s, 30m, 12h, 30d), at most 100 years";

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * unitMs[match[2]!]!);
  return Number.isSafeInteger(ms) && ms <= maxDurationMs ? ms : undefined;
}
