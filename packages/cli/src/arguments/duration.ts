import { acceptedDuration, parseDurationMs as parseDuration } from "@leangraph/checkpointer";
import { invalidArgumentError } from "../errors.js";

/** `30d` → 2,592,000,000, in the grammar LG_RETENTION_MAX_AGE uses; anything else is refused. */
export function parseDurationMs(argument: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw invalidArgumentError(argument, text, acceptedDuration);
  return ms;
}
