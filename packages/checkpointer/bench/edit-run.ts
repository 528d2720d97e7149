/**
 * One edit-loop measurement in a fresh process (issue 13's workload):
 *   node --import tsx bench/edit-run.ts <SaverKind> <steps> <workDir>
 * Prints one JSON line.
 */
import {
  changedBytes,
  digestFileMap,
  filesAfter,
  runEditWorkload,
} from "../test/fixtures/edit-workload.js";
import { openBenchSaver, type SaverKind } from "./saver-kinds.js";

const [kind, stepsText, workDir] = process.argv.slice(2) as [SaverKind, string, string];
const options = { files: 20, fileBytes: 290_000, steps: Number(stepsText) };
const bench = await openBenchSaver(kind, workDir);
try {
  const started = performance.now();
  const { graph, config } = await runEditWorkload(bench.saver, { ...options, threadId: "bench" });
  const invokeMs = performance.now() - started;
  const readStarted = performance.now();
  const state = await graph.getState(config);
  const getStateMs = performance.now() - readStarted;
  const identical =
    digestFileMap(state.values.files) === digestFileMap(filesAfter(options, options.steps));
  console.log(
    JSON.stringify({
      kind,
      steps: options.steps,
      changedBytes: changedBytes(options),
      invokeMs,
      getStateMs,
      bytesOnDisk: await bench.bytesOnDisk(),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      identical,
    }),
  );
} finally {
  await bench.dispose();
}
