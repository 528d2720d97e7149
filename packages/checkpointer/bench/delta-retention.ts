/**
 * What pruning a DeltaChannel thread keeps, two ways, on copies of one SQLite database:
 * - retained history (what prune does): delete everything but the newest `keepLast`, keeping
 *   for the oldest kept checkpoint the part of the channel's history the deleted ancestors held;
 * - keep ancestors: keep every checkpoint back to the channel's last snapshot (the other way to
 *   stay exact), i.e. prune with keepLast + that distance.
 * Run: node --import tsx bench/delta-retention.ts <turns> <workDir>; prints one JSON line.
 */
import { copyFileSync, cpSync } from "node:fs";
import { join } from "node:path";
import { diskUsage } from "../src/inspect/disk-usage.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { buildDeltaChatGraph, deltaChat } from "../test/fixtures/delta-chat-graph.js";

const [turnsText, workDir] = process.argv.slice(2) as [string, string];
const turns = Number(turnsText);
const keepLast = 10;
const original = join(workDir, "delta.sqlite");

const writer = LeanSqliteSaver.fromConnString(original);
await deltaChat(buildDeltaChatGraph(writer), "chat", turns);
// Distance from the oldest checkpoint prune keeps back to the last one storing `messages`.
const tuples = [];
for await (const tuple of writer.list({ configurable: { thread_id: "chat" } })) tuples.push(tuple);
let distance = 0;
for (let index = keepLast - 1; index < tuples.length; index += 1, distance += 1)
  if ("messages" in tuples[index]!.checkpoint.channel_values) break;
await writer.close();

async function measure(label: string, keep: number) {
  const path = join(workDir, `${label}.sqlite`);
  copyFileSync(original, path);
  cpSync(`${original}.blobs`, `${path}.blobs`, { recursive: true });
  const saver = LeanSqliteSaver.fromConnString(path);
  const before = (await diskUsage([path, `${path}.blobs`])).apparentBytes;
  const report = await saver.prune(["chat"], { keepLast: keep });
  await saver.gc({ graceMs: 0 });
  await saver.close();
  const after = (await diskUsage([path, `${path}.blobs`])).apparentBytes;
  return { keep, deleted: report.deletedCheckpoints, before, after };
}

console.log(
  JSON.stringify({
    turns,
    checkpoints: tuples.length,
    distanceToSnapshot: distance,
    retainedHistory: await measure("retained", keepLast),
    keepAncestors: await measure("ancestors", keepLast + distance),
  }),
);
