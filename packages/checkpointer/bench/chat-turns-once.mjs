/**
 * node bench/chat-turns-once.mjs <checkout> <turns> <compression>
 *
 * One process, one job: `turns` chat turns (put + getTuple) on a fresh LeanSqliteSaver loaded
 * from `<checkout>/packages/checkpointer/dist`, so two commits run the very same workload. Run
 * under callgrind by chat-instructions.mjs. `compression` (auto|off) is passed as the saver's
 * option; `-` passes none (a commit from before the option refuses unknown options);
 * `auto+encrypted` also passes a fresh random encryption key.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [checkout, turns, compression] = [
  resolve(process.argv[2]),
  Number(process.argv[3]),
  process.argv[4],
];
// The chat workload of the metrics overhead bench (the latency section's turns), from the checkout
// under test: its messages must be that checkout's own @langchain/core classes, or the saver's
// serializer would not recognize them and take a slower path.
const { chatTurns } = await import(
  pathToFileURL(join(checkout, "packages/metrics/bench/chat-workload.mjs")).href
);
const { LeanSqliteSaver } = await import(
  pathToFileURL(join(checkout, "packages/checkpointer/dist/sqlite.js")).href
);
const dir = mkdtempSync(join(tmpdir(), "lg-chat-instructions-"));
const options =
  compression === "-"
    ? {}
    : compression === "auto+encrypted"
      ? { compression: "auto", encryptionKeys: [{ id: "bench", key: randomBytes(32) }] }
      : { compression };
const saver = LeanSqliteSaver.fromConnString(join(dir, "checkpoints.sqlite"), options);
if (turns > 0) await chatTurns(saver, turns);
await saver.close();
rmSync(dir, { recursive: true, force: true });
