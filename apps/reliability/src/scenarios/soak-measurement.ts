import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRunAgent } from "../support/demo-agent-runner.js";

/** What the soak asks of one configuration's child process; its LG_* flags are in its env. */
export interface SoakMeasurementRequest {
  configuration: string;
  /** Steps (modules generated) at least. */
  steps: number;
  /** When set, run this long instead (and at least `steps`). */
  hours: number | undefined;
  segmentModules: number;
  moduleBytes: number;
}

export interface SoakSample {
  step: number;
  heapUsedMb: number;
  rssMb: number;
}

export interface SoakMeasurement {
  steps: number;
  threads: number;
  wallMs: number;
  /** One per thread boundary (and one before the first thread), each after a full GC. */
  samples: SoakSample[];
  /** Highest RSS seen while steps ran (worker isolates alive); not part of the slope. */
  peakRssMb: number;
  /** MALLOC_ARENA_MAX as this process saw it at start-up, or undefined. */
  mallocArenaMax: string | undefined;
  /** glibc's version, or undefined on a libc that ignores MALLOC_ARENA_MAX. */
  glibcVersion: string | undefined;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

function glibcVersion(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
    ?.header;
  return header?.glibcVersionRuntime;
}

/**
 * Runs the demo agent in this process, thread after thread, until the request's steps (or hours)
 * are done. Samples are taken only between threads, when the thread's step pool has closed and
 * every worker has ended: mid-thread, RSS moves by tens of MB with how many isolates happen to be
 * alive, which is noise, not retention. What one thread leaves behind is exactly what a long-lived
 * server would accumulate. Needs `--expose-gc`.
 */
export async function measureSoakConfiguration(
  request: SoakMeasurementRequest,
): Promise<SoakMeasurement> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") throw new Error("the soak child needs node --expose-gc");
  const runAgent = await loadRunAgent();
  const root = await mkdtemp(join(tmpdir(), `lg-soak-${request.configuration}-`));
  const samples: SoakSample[] = [];
  const sample = (step: number) => {
    gc();
    const usage = process.memoryUsage();
    samples.push({ step, heapUsedMb: mb(usage.heapUsed), rssMb: mb(usage.rss) });
  };
  const startedAt = performance.now();
  const deadline = request.hours === undefined ? undefined : startedAt + request.hours * 3_600_000;
  let steps = 0;
  let threads = 0;
  let peakRssBytes = 0;
  try {
    sample(0);
    for (;;) {
      const timeLeft = deadline !== undefined && performance.now() < deadline;
      if (steps >= request.steps && !timeLeft) break;
      const runDir = join(root, `thread-${threads}`);
      const report = await runAgent({
        moduleCount: request.segmentModules,
        targetBytes: request.moduleBytes,
        seed: `soak-${threads}`,
        threadId: `soak-${threads}`,
        runDir,
        stateShape: "lean",
        env: process.env,
        progress: {
          update() {
            peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
          },
          log() {},
          done() {},
        },
      });
      if (report.status !== "completed" || report.files !== request.segmentModules) {
        throw new Error(`soak thread ${threads} ended ${report.status} with ${report.files} files`);
      }
      // Finished threads are deleted like a server deletes finished work; files are not memory.
      await rm(runDir, { recursive: true, force: true });
      const before = steps;
      steps += request.segmentModules;
      threads += 1;
      sample(steps);
      if (Math.floor(before / 1000) !== Math.floor(steps / 1000)) {
        const last = samples.at(-1)!;
        process.stderr.write(
          `[soak] ${request.configuration}: ${steps} steps, heap ${last.heapUsedMb.toFixed(1)} MB, rss ${last.rssMb.toFixed(1)} MB, ${Math.round((performance.now() - startedAt) / 1000)} s\n`,
        );
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return {
    steps,
    threads,
    wallMs: Math.round(performance.now() - startedAt),
    samples,
    peakRssMb: mb(peakRssBytes),
    mallocArenaMax: process.env.MALLOC_ARENA_MAX,
    glibcVersion: glibcVersion(),
  };
}
