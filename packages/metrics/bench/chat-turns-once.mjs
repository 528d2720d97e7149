/**
 * node bench/chat-turns-once.mjs <turns> <on|off>
 *
 * One process, one job: `turns` chat turns (put + getTuple) on a fresh LeanSqliteSaver, with the
 * leangraph metrics registered (`on`, and scraped once at the end) or not (`off`). Run under
 * callgrind by instructions.mjs, which compares instruction counts: unlike time, they do not
 * change when other processes share the machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { Registry } from "prom-client";
import { registerLeangraphMetrics } from "../dist/index.js";
import { chatTurns } from "./chat-workload.mjs";

const [turns, mode] = [Number(process.argv[2]), process.argv[3]];
const dir = mkdtempSync(join(tmpdir(), "lg-metrics-instructions-"));
const saver = LeanSqliteSaver.fromConnString(join(dir, "checkpoints.sqlite"));
const registry = new Registry();
const metrics =
  mode === "on" ? registerLeangraphMetrics(registry, { checkpointer: saver }) : undefined;
if (turns > 0) await chatTurns(saver, turns);
if (metrics) {
  await registry.metrics();
  metrics.unregister();
}
await saver.close();
rmSync(dir, { recursive: true, force: true });
