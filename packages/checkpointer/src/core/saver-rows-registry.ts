import { LeangraphError } from "@leangraph/serde";
import { CheckpointerErrorCode } from "../errors.js";
import type { RowStore } from "./row-store.js";

/** What the package's read-only tools may do with a saver's rows: read, never write. */
export type ReadOnlyRows = Omit<RowStore, "write" | "migrate" | "reclaimSpace" | "close"> & {
  /**
   * Item bodies come opened from an envelope bound to their id (encryption on): proven by it, and
   * not hashable against keyed ids (see core/read/item-reader.ts itemBodyPlain).
   */
  readonly bodiesProvenByEnvelope: boolean;
};

/**
 * A saver's rows by saver, filled by the saver's constructor. `rows` stays protected so an
 * application cannot write behind the saver's back; the package's own read-only tools
 * (src/inspect) ask here instead of casting into the saver. Not exported from the package.
 */
const rowsBySaver = new WeakMap<object, ReadOnlyRows>();

export function registerSaverRows(
  saver: object,
  rows: Omit<ReadOnlyRows, "bodiesProvenByEnvelope">,
  bodiesProvenByEnvelope: boolean,
): void {
  rowsBySaver.set(saver, { ...rows, bodiesProvenByEnvelope });
}

export function readOnlyRowsOf(saver: object): ReadOnlyRows {
  const rows = rowsBySaver.get(saver);
  // A LeanCheckpointSaver's constructor registers; JavaScript callers may pass anything else.
  if (rows === undefined)
    throw new LeangraphError(
      CheckpointerErrorCode.invalidOption,
      `Invalid saver: expected a LeanSqliteSaver or LeanPostgresSaver, got ${describe(saver)}.`,
    );
  return rows;
}

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return String(value);
  return value.constructor?.name ?? "an object";
}
