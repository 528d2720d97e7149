import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { LeangraphError } from "@leangraph/serde";
import type { StorageStats } from "./core/lean-saver.js";
import { CheckpointerErrorCode } from "./errors.js";

/**
 * Storage figures for any saver that can report them: the lean savers and the measured stock
 * savers `createCheckpointer` returns. A plain stock saver has no way to report, so it is an error
 * to ask rather than a row of zeros.
 */
export async function measureStorage(saver: BaseCheckpointSaver): Promise<StorageStats> {
  const measurable = saver as BaseCheckpointSaver & { storageStats?: () => Promise<StorageStats> };
  if (typeof measurable.storageStats !== "function") {
    throw new LeangraphError(
      CheckpointerErrorCode.storageUnmeasurable,
      `${saver.constructor.name} cannot report storage.`,
      {
        hint: "Build it with createCheckpointer(), or use MeasuredSqliteSaver / MeasuredPostgresSaver / MeasuredMemorySaver.",
      },
    );
  }
  return measurable.storageStats();
}
