import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, expect, it } from "vitest";
import {
  BLOBS_WRITTEN_CHANNEL,
  type BlobsWrittenEvent,
  blobsWrittenChannel,
} from "../src/diagnostics.js";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";
import { countingStore } from "./helpers.js";

const kb = 1024;

describe("diagnostics channel", () => {
  it("publishes blobs written and deduplicated, as the store saw them", async () => {
    const events: BlobsWrittenEvent[] = [];
    const listener = (message: unknown) => events.push(message as BlobsWrittenEvent);
    subscribe(BLOBS_WRITTEN_CHANNEL, listener);
    try {
      const blobStore = countingStore(createMemoryBlobStore());
      const serializer = new RedactingSerializer({
        blobStore,
        chunkMinBytes: Number.MAX_SAFE_INTEGER,
      });
      const artifact = "an artifact line\n".repeat(20 * kb);
      await serializer.dumpsTyped({ artifact });
      await serializer.dumpsTyped({ artifact });
      await serializer.dumpsTyped({ small: "inline" });
      expect(events).toEqual([
        { written: 1, bytesWritten: Buffer.byteLength(artifact), deduplicated: 0 },
        { written: 0, bytesWritten: 0, deduplicated: 1 },
      ]);
      expect(blobStore.writes()).toBe(1);
    } finally {
      unsubscribe(BLOBS_WRITTEN_CHANNEL, listener);
    }
    expect(blobsWrittenChannel.hasSubscribers).toBe(false);
  });
});
