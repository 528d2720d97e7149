import { MemorySaver } from "@langchain/langgraph-checkpoint";
import type { StorageStats } from "../core/lean-saver.js";

/** The stock MemorySaver plus storageStats() and close(); see stock/sqlite.ts. */
export class MeasuredMemorySaver extends MemorySaver {
  /** Bytes of the serialized checkpoints, metadata and writes it holds in this heap. */
  async storageStats(): Promise<StorageStats> {
    let dbBytes = 0;
    let checkpointCount = 0;
    let largestCheckpointRowBytes = 0;
    for (const namespaces of Object.values(this.storage)) {
      for (const checkpoints of Object.values(namespaces)) {
        for (const [checkpoint, metadata] of Object.values(checkpoints)) {
          const rowBytes = checkpoint.byteLength + metadata.byteLength;
          dbBytes += rowBytes;
          checkpointCount += 1;
          largestCheckpointRowBytes = Math.max(largestCheckpointRowBytes, rowBytes);
        }
      }
    }
    for (const writes of Object.values(this.writes)) {
      for (const [, , value] of Object.values(writes)) dbBytes += value.byteLength;
    }
    return { dbBytes, blobBytes: 0, blobCount: 0, checkpointCount, largestCheckpointRowBytes };
  }

  async close(): Promise<void> {}
}
