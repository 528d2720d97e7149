import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { firstDifference } from "./first-difference.js";

function configurableOf(config: CheckpointTuple["config"] | undefined) {
  const configurable = config?.configurable;
  if (configurable === undefined) return undefined;
  return {
    thread_id: configurable.thread_id,
    checkpoint_ns: configurable.checkpoint_ns ?? "",
    checkpoint_id: configurable.checkpoint_id,
  };
}

/**
 * Where two readings of one checkpoint differ, or undefined. Compares what `getTuple` and `list`
 * hand to LangGraph: the checkpoint (every channel value decoded), metadata, pending writes in
 * order, and the config and parent config by id (savers add their own extra configurable keys).
 */
export function tupleDifference(
  source: CheckpointTuple,
  destination: CheckpointTuple,
): string | undefined {
  return firstDifference(
    {
      config: configurableOf(source.config),
      parentConfig: configurableOf(source.parentConfig),
      checkpoint: source.checkpoint,
      metadata: source.metadata,
      pendingWrites: source.pendingWrites ?? [],
    },
    {
      config: configurableOf(destination.config),
      parentConfig: configurableOf(destination.parentConfig),
      checkpoint: destination.checkpoint,
      metadata: destination.metadata,
      pendingWrites: destination.pendingWrites ?? [],
    },
  );
}
