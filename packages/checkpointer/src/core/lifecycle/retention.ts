import { LeangraphError } from "@leangraph/serde";
import { CheckpointerErrorCode } from "../../errors.js";
import type { CheckpointPlace } from "../row-store.js";

/** What `prune` removes; see LeanCheckpointSaver.prune. */
export interface PruneOptions {
  /** The newest checkpoints kept in each namespace of a thread, whatever their age. */
  keepLast?: number | undefined;
  /**
   * Checkpoints older than this (by their own `ts`) are removed, except the newest `keepLast`
   * (1 when only `maxAgeMs` is given, so a thread's current state is never removed for its age).
   */
  maxAgeMs?: number | undefined;
  /** Count what would be removed; change nothing. */
  dryRun?: boolean | undefined;
}

/** A validated prune rule. */
export interface RetentionRule {
  keepLast: number;
  /** Undefined: age does not matter, only `keepLast`. */
  maxAgeMs: number | undefined;
}

function invalid(option: string, value: unknown, accepted: string): LeangraphError {
  return new LeangraphError(
    CheckpointerErrorCode.invalidOption,
    `Invalid ${option}=${JSON.stringify(value)}: expected ${accepted}.`,
  );
}

/** Validates prune / retention options at the edge; `where` names them in errors ("prune"). */
export function retentionRuleOf(options: PruneOptions, where: string): RetentionRule {
  const { keepLast, maxAgeMs } = options;
  if (keepLast !== undefined && (!Number.isSafeInteger(keepLast) || keepLast < 0))
    throw invalid(`${where} keepLast`, keepLast, "a whole number >= 0");
  if (maxAgeMs !== undefined && (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 0))
    throw invalid(`${where} maxAgeMs`, maxAgeMs, "a whole number of milliseconds >= 0");
  if (keepLast === undefined && maxAgeMs === undefined)
    throw invalid(where, options, "keepLast, maxAgeMs or both");
  return { keepLast: keepLast ?? 1, maxAgeMs };
}

export interface PrunePlan {
  deleted: CheckpointPlace[];
  /**
   * Kept checkpoints whose parent is deleted: where a walk up the history would now end, so they
   * get the retained history of their delta channels.
   */
  cutPoints: CheckpointPlace[];
}

/**
 * Which checkpoints of one thread a rule removes: per namespace, everything but the newest
 * `keepLast` (checkpoint ids are time-ordered), and with `maxAgeMs` only what is also older than
 * that. A checkpoint whose age is unknown is never removed for its age. Pure: no I/O.
 */
export function planPrune(
  places: readonly CheckpointPlace[],
  rule: RetentionRule,
  nowMs: number,
): PrunePlan {
  const byNamespace = new Map<string, CheckpointPlace[]>();
  for (const place of places) {
    const namespace = byNamespace.get(place.checkpointNs);
    if (namespace) namespace.push(place);
    else byNamespace.set(place.checkpointNs, [place]);
  }
  const deleted: CheckpointPlace[] = [];
  const cutPoints: CheckpointPlace[] = [];
  for (const namespace of byNamespace.values()) {
    namespace.sort((a, b) => (a.checkpointId < b.checkpointId ? 1 : -1));
    const deletedIds = new Set<string>();
    namespace.forEach((place, newestRank) => {
      if (newestRank < rule.keepLast) return;
      if (rule.maxAgeMs !== undefined) {
        if (place.createdAtMs === undefined || nowMs - place.createdAtMs <= rule.maxAgeMs) return;
      }
      deletedIds.add(place.checkpointId);
      deleted.push(place);
    });
    for (const place of namespace) {
      const parent = place.parentCheckpointId;
      if (!deletedIds.has(place.checkpointId) && parent !== undefined && deletedIds.has(parent))
        cutPoints.push(place);
    }
  }
  return { deleted, cutPoints };
}
