/**
 * Child program of the SQLite concurrency scenario: one process with its own connection to the
 * shared database file, putting a chain of checkpoints on its own thread and every fourth one on
 * a thread all processes share. Prints the ids it wrote as JSON; any error exits non-zero.
 * Usage: sqlite-putter <dbPath> <blobDir> <processIndex> <puts>
 */
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { createFsBlobStore } from "@leangraph/serde";
import { putChain } from "../support/checkpoint-writer.js";

const [dbPath, blobDir, processIndex, puts] = process.argv.slice(2);
const saver = LeanSqliteSaver.fromConnString(dbPath!, {
  blobStore: createFsBlobStore({ dir: blobDir! }),
});
try {
  const index = Number(processIndex);
  const own = putChain(saver, {
    threadId: `process-${index}`,
    puts: Number(puts),
    label: `p${index}`,
    clockSeq: index,
  });
  const shared = putChain(saver, {
    threadId: "shared",
    puts: Math.floor(Number(puts) / 4),
    label: `shared-p${index}`,
    clockSeq: 100 + index,
  });
  const [ownIds, sharedIds] = await Promise.all([own, shared]);
  process.stdout.write(JSON.stringify({ ownIds, sharedIds }));
} finally {
  await saver.close();
}
