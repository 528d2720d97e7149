/**
 * One workload measurement in a fresh process (peak RSS is per process):
 *   node --import tsx bench/workload-run.ts <SaverKind> <steps> <fileBytes> <workDir>
 * Prints one JSON line.
 */
import {
  digestFiles,
  expectedDigest,
  runAppendWorkload,
} from "../test/fixtures/append-workload.js";
import { openBenchSaver, type SaverKind } from "./saver-kinds.js";

const [kind, stepsText, fileBytesText, workDir] = process.argv.slice(2) as [
  SaverKind,
  string,
  string,
  string,
];
const steps = Number(stepsText);
const fileBytes = Number(fileBytesText);
const bench = await openBenchSaver(kind, workDir);
try {
  const started = performance.now();
  const { graph, config } = await runAppendWorkload(bench.saver, {
    steps,
    fileBytes,
    threadId: "bench",
  });
  const invokeMs = performance.now() - started;
  const readStarted = performance.now();
  const state = await graph.getState(config);
  const getStateMs = performance.now() - readStarted;
  const identical = digestFiles(state.values.files) === expectedDigest(steps, fileBytes);
  const stats = await bench.saver.storageStats();
  console.log(
    JSON.stringify({
      kind,
      steps,
      invokeMs,
      getStateMs,
      bytesOnDisk: await bench.bytesOnDisk(),
      largestCheckpointRowBytes: stats.largestCheckpointRowBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      identical,
    }),
  );
} finally {
  await bench.dispose();
}
