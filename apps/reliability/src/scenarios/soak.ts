import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadRunAgent } from "../support/demo-agent-runner.js";
import { leastSquaresSlope } from "../support/least-squares.js";

export interface SoakOptions {
  /** Generation steps (modules) per configuration, at least. @default 5000 */
  steps?: number;
  /** When set, each configuration runs this long instead (and at least `steps`). */
  hours?: number;
  /** Modules per thread; the soak runs thread after thread in one process, like a server. @default 500 */
  segmentModules?: number;
  /** Bytes per generated module. @default 4096 */
  moduleBytes?: number;
  /** Steps between two samples (each taken after a full GC). @default 25 */
  sampleEverySteps?: number;
  /** Leading share of the steps left out of the slope (module loading, JIT, caches filling). @default 0.2 */
  warmupFraction?: number;
  /** @default ["leangraph", "flags-off"] */
  configurations?: SoakConfigurationName[];
  /** Pass threshold on the heap and RSS slopes. @default 1 */
  maxSlopeMbPer1000Steps?: number;
}

export type SoakConfigurationName = "leangraph" | "flags-off";

/** The LG_* flags of each configuration; `flags-off` turns every leangraph part off. */
export const soakConfigurations: Record<SoakConfigurationName, Record<string, string>> = {
  leangraph: { LG_WORKER_THREADS: "2", LG_MEM_LOG_INTERVAL_S: "0" },
  "flags-off": {
    LG_WORKER_THREADS: "2",
    LG_MEM_LOG_INTERVAL_S: "0",
    LG_REDACTING_SERDE: "off",
    LG_USE_WORKERS: "off",
    LG_MEM_WATCHDOG: "off",
  },
};

export interface SoakSample {
  step: number;
  heapUsedMb: number;
  rssMb: number;
}

export interface SoakConfigurationResult {
  configuration: SoakConfigurationName;
  flags: Record<string, string>;
  steps: number;
  threads: number;
  wallMs: number;
  warmupSteps: number;
  heapSlopeMbPer1000Steps: number;
  rssSlopeMbPer1000Steps: number;
  heapAfterWarmupMb: number;
  heapAtEndMb: number;
  rssAfterWarmupMb: number;
  rssAtEndMb: number;
  samples: number;
  passed: boolean;
}

export interface SoakResult {
  options: Required<Omit<SoakOptions, "hours">> & { hours: number | undefined };
  configurations: SoakConfigurationResult[];
  passed: boolean;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

/** A full GC before each sample, so the slope follows what is retained, not what awaits collection. */
function collectGarbage(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  return gc;
}

async function soakOne(
  name: SoakConfigurationName,
  options: SoakResult["options"],
): Promise<SoakConfigurationResult> {
  const runAgent = await loadRunAgent();
  const gc = collectGarbage();
  const env = { ...withoutLgFlags(process.env), ...soakConfigurations[name] };
  const root = await mkdtemp(join(tmpdir(), `lg-soak-${name}-`));
  const samples: SoakSample[] = [];
  const startedAt = performance.now();
  const deadline = options.hours === undefined ? undefined : startedAt + options.hours * 3_600_000;
  let stepsBefore = 0;
  let nextSample = 0;
  let threads = 0;
  const sample = (step: number) => {
    gc();
    const usage = process.memoryUsage();
    samples.push({ step, heapUsedMb: mb(usage.heapUsed), rssMb: mb(usage.rss) });
  };
  try {
    for (;;) {
      const done = stepsBefore >= options.steps;
      const timeLeft = deadline !== undefined && performance.now() < deadline;
      if (done && !timeLeft) break;
      const runDir = join(root, `thread-${threads}`);
      const report = await runAgent({
        moduleCount: options.segmentModules,
        targetBytes: options.moduleBytes,
        seed: `soak-${threads}`,
        threadId: `soak-${threads}`,
        runDir,
        stateShape: "lean",
        env,
        progress: {
          update(state) {
            const step = stepsBefore + state.modulesDone;
            if (step >= nextSample) {
              sample(step);
              nextSample = step + options.sampleEverySteps;
            }
          },
          log() {},
          done() {},
        },
      });
      if (report.status !== "completed" || report.files !== options.segmentModules) {
        throw new Error(`soak thread ${threads} ended ${report.status} with ${report.files} files`);
      }
      stepsBefore += options.segmentModules;
      threads += 1;
      // Old threads are deleted like a server deletes finished work; their files are not memory.
      await rm(runDir, { recursive: true, force: true });
      process.stderr.write(
        `[soak] ${name}: ${stepsBefore} steps, heap ${samples.at(-1)?.heapUsedMb.toFixed(1)} MB, rss ${samples.at(-1)?.rssMb.toFixed(1)} MB, ${Math.round((performance.now() - startedAt) / 1000)} s\n`,
      );
    }
    sample(stepsBefore);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const warmupSteps = Math.round(stepsBefore * options.warmupFraction);
  const measured = samples.filter((point) => point.step >= warmupSteps);
  const slope = (pick: (point: SoakSample) => number) =>
    leastSquaresSlope(measured.map((point) => ({ x: point.step, y: pick(point) }))) * 1000;
  const heapSlope = slope((point) => point.heapUsedMb);
  const rssSlope = slope((point) => point.rssMb);
  return {
    configuration: name,
    flags: soakConfigurations[name],
    steps: stepsBefore,
    threads,
    wallMs: Math.round(performance.now() - startedAt),
    warmupSteps,
    heapSlopeMbPer1000Steps: heapSlope,
    rssSlopeMbPer1000Steps: rssSlope,
    heapAfterWarmupMb: measured[0]?.heapUsedMb ?? 0,
    heapAtEndMb: samples.at(-1)?.heapUsedMb ?? 0,
    rssAfterWarmupMb: measured[0]?.rssMb ?? 0,
    rssAtEndMb: samples.at(-1)?.rssMb ?? 0,
    samples: measured.length,
    passed:
      heapSlope <= options.maxSlopeMbPer1000Steps && rssSlope <= options.maxSlopeMbPer1000Steps,
  };
}

function withoutLgFlags(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith("LG_")) copy[name] = value;
  return copy;
}

/**
 * Runs the demo agent in this process for thousands of steps per configuration, sampling this
 * process's heap and RSS after a full GC, and fits a least-squares line after warm-up. A leak of
 * a few hundred bytes per step shows up as a positive slope long before it hurts anyone.
 */
export async function runSoak(input: SoakOptions = {}): Promise<SoakResult> {
  const options: SoakResult["options"] = {
    steps: input.steps ?? 5000,
    hours: input.hours,
    segmentModules: input.segmentModules ?? 500,
    moduleBytes: input.moduleBytes ?? 4096,
    sampleEverySteps: input.sampleEverySteps ?? 25,
    warmupFraction: input.warmupFraction ?? 0.2,
    configurations: input.configurations ?? ["leangraph", "flags-off"],
    maxSlopeMbPer1000Steps: input.maxSlopeMbPer1000Steps ?? 1,
  };
  const configurations: SoakConfigurationResult[] = [];
  for (const name of options.configurations) configurations.push(await soakOne(name, options));
  // The flags-off run is a reference, printed beside; the verdict is leangraph's own.
  const verdict = configurations.filter((result) => result.configuration === "leangraph");
  return {
    options,
    configurations,
    passed: (verdict.length > 0 ? verdict : configurations).every((result) => result.passed),
  };
}
