/*
 * The subscribing side of the seam: every diagnostics_channel event a leangraph package publishes,
 * by the channel names their owners export. The metrics registration and the dashboard both
 * listen through here, so the list of channels lives in one place on this side too.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  CHECKPOINT_PUT_CHANNEL,
  type CheckpointPutEvent,
  RETENTION_SWEEP_CHANNEL,
  type RetentionSweepEvent,
} from "@leangraph/checkpointer/diagnostics";
import { BLOBS_WRITTEN_CHANNEL, type BlobsWrittenEvent } from "@leangraph/serde/diagnostics";
import { STEP_SETTLED_CHANNEL, type StepSettledEvent } from "@leangraph/workers/diagnostics";

export type { BlobsWrittenEvent, CheckpointPutEvent, RetentionSweepEvent, StepSettledEvent };

export interface LeangraphEventHandlers {
  stepSettled?: (event: StepSettledEvent) => void;
  checkpointPut?: (event: CheckpointPutEvent) => void;
  blobsWritten?: (event: BlobsWrittenEvent) => void;
  retentionSweep?: (event: RetentionSweepEvent) => void;
}

const channelOf: Record<keyof LeangraphEventHandlers, string> = {
  stepSettled: STEP_SETTLED_CHANNEL,
  checkpointPut: CHECKPOINT_PUT_CHANNEL,
  blobsWritten: BLOBS_WRITTEN_CHANNEL,
  retentionSweep: RETENTION_SWEEP_CHANNEL,
};

/**
 * Subscribes each given handler to its channel; returns the function that unsubscribes them all.
 * The module-level `subscribe(name, …)` holds the channel strongly, so a subscription lives until
 * it is removed even where nothing else references the channel object.
 */
export function subscribeToLeangraphEvents(handlers: LeangraphEventHandlers): () => void {
  const subscribed: Array<[string, (message: unknown) => void]> = [];
  for (const [kind, handler] of Object.entries(handlers) as Array<
    [keyof LeangraphEventHandlers, ((event: never) => void) | undefined]
  >) {
    if (handler === undefined) continue;
    const listener = (message: unknown) => handler(message as never);
    subscribe(channelOf[kind], listener);
    subscribed.push([channelOf[kind], listener]);
  }
  return () => {
    for (const [name, listener] of subscribed.splice(0)) unsubscribe(name, listener);
  };
}
