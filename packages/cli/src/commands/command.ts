import type { ExitCode } from "../exit-codes.js";
import type { Progress } from "../progress.js";

/** What every command gets: where to report progress, and the Ctrl-C signal to stop at. */
export interface CommandContext {
  progress: Progress;
  signal: AbortSignal;
  now: () => number;
}

/** What every command returns: the exit code, the `--json` report, and the text for a person. */
export interface CommandOutcome {
  exitCode: ExitCode;
  report: Record<string, unknown>;
  text: string;
}

/** Peak resident set size of this process so far, in bytes (Linux reports KiB). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
