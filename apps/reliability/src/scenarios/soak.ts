import { existsSync } from "node:fs";
import { snapshotDirNodeFlags } from "@leangraph/workers";
import { cleanEnv, startNode, tail } from "../support/child-process.js";
import { leastSquaresFit } from "../support/least-squares.js";
import { builtChildProgram } from "../support/paths.js";
import type { SoakMeasurement, SoakMeasurementRequest, SoakSample } from "./soak-measurement.js";

export interface SoakOptions {
  /** Generation steps (modules) per configuration, at least. @default 20000 */
  steps?: number;
  /** When set, each configuration runs this long instead (and at least `steps`). */
  hours?: number;
  /** Modules per thread; memory is sampled between threads, so this sets the sample spacing. @default 100 */
  segmentModules?: number;
  /** Bytes per generated module. @default 4096 */
  moduleBytes?: number;
  /** Leading share of the steps left out of the slope (module loading, JIT, caches filling). @default 0.2 */
  warmupFraction?: number;
  /** @default ["leangraph", "flags-off"] */
  configurations?: SoakConfigurationName[];
  /** Pass threshold on the heap and RSS slopes. @default 1 */
  maxSlopeMbPer1000Steps?: number;
  /** MALLOC_ARENA_MAX of the configuration processes; "default" leaves glibc's own. @default "2" */
  mallocArenaMax?: string;
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

/**
 * Every step runs in a fresh worker thread (a fresh isolate in this process), and glibc hands
 * new threads malloc arenas of their own, up to 8 per core, which it never unmaps and trims only
 * from the top: thread after thread, RSS fills with fragmented arenas although nothing is
 * retained. Two arenas keep RSS near what the process uses; "default" reproduces the effect.
 */
export const DEFAULT_MALLOC_ARENA_MAX = "2";

export interface SoakConfigurationResult {
  configuration: SoakConfigurationName;
  flags: Record<string, string>;
  /** e.g. `MALLOC_ARENA_MAX=2, glibc 2.36`, as the configuration's process saw it. */
  environment: string;
  steps: number;
  threads: number;
  wallMs: number;
  warmupSteps: number;
  heapSlopeMbPer1000Steps: number;
  heapSlopeStandardError: number;
  rssSlopeMbPer1000Steps: number;
  rssSlopeStandardError: number;
  heapAfterWarmupMb: number;
  heapAtEndMb: number;
  rssAfterWarmupMb: number;
  rssAtEndMb: number;
  peakRssMb: number;
  samples: number;
  /** Every sample, warm-up included, rounded to 0.1 MB: kept so the fit can be checked or redone. */
  memoryTrace: SoakSample[];
  passed: boolean;
}

export interface SoakResult {
  options: Required<Omit<SoakOptions, "hours">> & { hours: number | undefined };
  configurations: SoakConfigurationResult[];
  passed: boolean;
}

/** The child's environment: no inherited LG_* flags, the configuration's own, the arena cap. */
function configurationEnv(name: SoakConfigurationName, mallocArenaMax: string): NodeJS.ProcessEnv {
  const env = cleanEnv(soakConfigurations[name]);
  delete env.MALLOC_ARENA_MAX;
  if (mallocArenaMax !== "default") env.MALLOC_ARENA_MAX = mallocArenaMax;
  return env;
}

/** Runs one configuration in a process of its own and waits for its measurement. */
async function measureInChild(
  name: SoakConfigurationName,
  options: SoakResult["options"],
): Promise<SoakMeasurement> {
  const request: SoakMeasurementRequest = {
    configuration: name,
    steps: options.steps,
    hours: options.hours,
    segmentModules: options.segmentModules,
    moduleBytes: options.moduleBytes,
  };
  const program = builtChildProgram("soak-configuration");
  if (!existsSync(program)) {
    throw new Error(
      `soak: ${program} is missing; run \`pnpm build\` first (the soak measures built JS).`,
    );
  }
  const env = configurationEnv(name, options.mallocArenaMax);
  const running = startNode(program, [JSON.stringify(request)], {
    env,
    ipc: true,
    // A near-limit heap snapshot of a soak that ran out of memory lands in LG_SNAPSHOT_DIR.
    nodeFlags: ["--expose-gc", ...snapshotDirNodeFlags(env)],
  });
  let measurement: SoakMeasurement | undefined;
  running.child.on("message", (message) => {
    measurement = message as SoakMeasurement;
  });
  running.child.stderr!.on("data", (chunk) => process.stderr.write(chunk));
  const outcome = await running.done;
  if (measurement === undefined || outcome.code !== 0) {
    throw new Error(
      `soak ${name} child ended with ${outcome.signal ?? `code ${outcome.code}`} and no measurement: ${tail(outcome.stderr)}`,
    );
  }
  return measurement;
}

function environmentLabel(measurement: SoakMeasurement): string {
  const arenas =
    measurement.mallocArenaMax === undefined
      ? "MALLOC_ARENA_MAX unset (glibc default: 8 arenas per core)"
      : `MALLOC_ARENA_MAX=${measurement.mallocArenaMax}`;
  const libc =
    measurement.glibcVersion === undefined
      ? "not glibc (the variable has no effect)"
      : `glibc ${measurement.glibcVersion}`;
  return `${arenas}, ${libc}`;
}

function judge(
  name: SoakConfigurationName,
  measurement: SoakMeasurement,
  options: SoakResult["options"],
): SoakConfigurationResult {
  const warmupSteps = Math.round(measurement.steps * options.warmupFraction);
  const measured = measurement.samples.filter((point) => point.step >= warmupSteps);
  const fit = (pick: (point: SoakSample) => number) => {
    const line = leastSquaresFit(measured.map((point) => ({ x: point.step, y: pick(point) })));
    return { slope: line.slope * 1000, standardError: line.slopeStandardError * 1000 };
  };
  const heap = fit((point) => point.heapUsedMb);
  const rss = fit((point) => point.rssMb);
  const last = measurement.samples.at(-1);
  return {
    configuration: name,
    flags: soakConfigurations[name],
    environment: environmentLabel(measurement),
    steps: measurement.steps,
    threads: measurement.threads,
    wallMs: measurement.wallMs,
    warmupSteps,
    heapSlopeMbPer1000Steps: heap.slope,
    heapSlopeStandardError: heap.standardError,
    rssSlopeMbPer1000Steps: rss.slope,
    rssSlopeStandardError: rss.standardError,
    heapAfterWarmupMb: measured[0]?.heapUsedMb ?? 0,
    heapAtEndMb: last?.heapUsedMb ?? 0,
    rssAfterWarmupMb: measured[0]?.rssMb ?? 0,
    rssAtEndMb: last?.rssMb ?? 0,
    peakRssMb: measurement.peakRssMb,
    samples: measured.length,
    memoryTrace: measurement.samples.map((point) => ({
      step: point.step,
      heapUsedMb: Math.round(point.heapUsedMb * 10) / 10,
      rssMb: Math.round(point.rssMb * 10) / 10,
    })),
    passed:
      heap.slope <= options.maxSlopeMbPer1000Steps && rss.slope <= options.maxSlopeMbPer1000Steps,
  };
}

/**
 * Runs the demo agent for thousands of steps per configuration, each configuration in a fresh
 * child process (one after another, so they never share a baseline or compete for the CPUs),
 * samples that process's heap and RSS between threads after a full GC, and fits a least-squares
 * line after warm-up. A leak of a few hundred bytes per step shows up as a positive slope long
 * before it hurts anyone.
 */
export async function runSoak(input: SoakOptions = {}): Promise<SoakResult> {
  const options: SoakResult["options"] = {
    // Between threads, RSS sits on one of several allocator levels up to ~20 MB apart (free
    // memory glibc has not trimmed yet). Over 20,000 steps that scatter leaves the RSS slope a
    // standard error of ~0.3 MB / 1,000 steps, so 1 MB is a verdict; over 10,000 it was ~0.9.
    steps: input.steps ?? 20_000,
    hours: input.hours,
    segmentModules: input.segmentModules ?? 100,
    moduleBytes: input.moduleBytes ?? 4096,
    warmupFraction: input.warmupFraction ?? 0.2,
    configurations: input.configurations ?? ["leangraph", "flags-off"],
    maxSlopeMbPer1000Steps: input.maxSlopeMbPer1000Steps ?? 1,
    mallocArenaMax: input.mallocArenaMax ?? DEFAULT_MALLOC_ARENA_MAX,
  };
  const configurations: SoakConfigurationResult[] = [];
  for (const name of options.configurations) {
    configurations.push(judge(name, await measureInChild(name, options), options));
  }
  // The flags-off run is a reference, printed beside; the verdict is leangraph's own.
  const verdict = configurations.filter((result) => result.configuration === "leangraph");
  return {
    options,
    configurations,
    passed: (verdict.length > 0 ? verdict : configurations).every((result) => result.passed),
  };
}
