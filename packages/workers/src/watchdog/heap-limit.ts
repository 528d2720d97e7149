import { getHeapStatistics } from "node:v8";
import { isMainThread, resourceLimits } from "node:worker_threads";
import { nodeFlagMb } from "../node-options.js";

const MB = 1024 * 1024;

/** Where the old generation's limit was read from ("heap_size_limit": worked out from V8's statistics). */
export type HeapLimitSource =
  | "resourceLimits"
  | "--max-old-space-size"
  | "--max-semi-space-size"
  | "heap_size_limit";

/**
 * The heap limit that kills the process. A JavaScript heap dies with "heap out of memory" when
 * its live objects no longer fit in the **old generation**: live young objects are promoted into
 * it, so everything `heapUsed` counts has to fit there. V8's `heap_size_limit` is larger: it adds
 * the young generation's reserve (3 semi-spaces), 48 MB on Node 20 and 22 and 192 MB on Node 24
 * for any explicit `--max-old-space-size`. Measured against it, a 64 MB process died at 0.57
 * (Node 20) or 0.25 (Node 24) and no threshold above that ever fired.
 */
export interface HeapLimit {
  /** The old generation's limit in bytes: what pressure levels and thresholds are fractions of. */
  oldGenerationBytes: number;
  /** V8's `heap_size_limit`: the old generation plus the young generation's reserve. */
  heapSizeLimitBytes: number;
  source: HeapLimitSource;
}

/** What the limit is worked out from; `readHeapLimit()` fills it in for this process. */
export interface HeapLimitInputs {
  /** `v8.getHeapStatistics().heap_size_limit`. */
  heapSizeLimitBytes: number;
  /** `process.versions.v8`, e.g. "13.6.233.17-node.44". */
  v8Version: string;
  execArgv: readonly string[];
  /** The NODE_OPTIONS environment variable. */
  nodeOptions: string | undefined;
  /** `worker_threads.resourceLimits` inside a worker thread; undefined on the main thread. */
  workerLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

/**
 * How V8 sizes the young generation when it derives the heap from the machine's memory (Node
 * passes the physical or cgroup memory to `ResourceConstraints::ConfigureDefaults`): a semi-space
 * of old/ratio MB (old/256 up to a 256 MB old generation), rounded up to a power of two, between
 * 1 MB and a per-version maximum; the young generation is 3 semi-spaces. Figures measured with
 * cgroup memory limits of 0.5-16 GB and with `--max-old-space-size` (test/heap-limit.test.ts
 * holds the table): V8 11.3 (Node 20) and 12.4 (Node 22) cap the semi-space at 16 MB with ratio
 * 128; V8 13.6 (Node 24) caps it at 64 MB with ratio 32.
 */
function youngGenerationRule(v8Version: string): { maxSemiSpaceMb: number; ratio: number } {
  const major = Number.parseInt(v8Version, 10);
  return major >= 13 ? { maxSemiSpaceMb: 64, ratio: 32 } : { maxSemiSpaceMb: 16, ratio: 128 };
}

const LOW_MEMORY_OLD_GENERATION_MB = 256;
const LOW_MEMORY_RATIO = 256;

function powerOfTwoAtLeast(value: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, value)));
}

/** The semi-space V8 gives an old generation of `oldMb` when it sized the heap itself. */
function defaultSemiSpaceMb(oldMb: number, rule: { maxSemiSpaceMb: number; ratio: number }) {
  const ratio = oldMb <= LOW_MEMORY_OLD_GENERATION_MB ? LOW_MEMORY_RATIO : rule.ratio;
  return Math.min(rule.maxSemiSpaceMb, powerOfTwoAtLeast(oldMb / ratio));
}

/**
 * The old generation's limit, pure (the tests feed it figures measured on each Node version).
 * An explicit cap wins: a worker's `resourceLimits` when they add up to `heap_size_limit` (a
 * worker started without limits reports V8's defaults there, not the flags it inherited), then
 * `--max-old-space-size` from the command line or NODE_OPTIONS. Otherwise `heap_size_limit`
 * minus the young generation: `--max-semi-space-size` when given, else the split V8 makes of a
 * heap it sized from the machine's memory, else (the cap came from somewhere we cannot see, such
 * as `--max-old-space-size-percentage`) the largest young reserve, which errs towards warning early.
 */
export function oldGenerationLimit(inputs: HeapLimitInputs): HeapLimit {
  const heapSizeLimitBytes = inputs.heapSizeLimitBytes;
  const heapMb = heapSizeLimitBytes / MB;
  const limit = (oldMb: number, source: HeapLimitSource): HeapLimit => ({
    oldGenerationBytes: Math.round(oldMb * MB),
    heapSizeLimitBytes,
    source,
  });

  const worker = inputs.workerLimits;
  if (
    worker?.maxOldGenerationSizeMb !== undefined &&
    worker.maxYoungGenerationSizeMb !== undefined &&
    worker.maxOldGenerationSizeMb + worker.maxYoungGenerationSizeMb === heapMb
  ) {
    return limit(worker.maxOldGenerationSizeMb, "resourceLimits");
  }

  const sources = { execArgv: inputs.execArgv, nodeOptions: inputs.nodeOptions };
  const maxOldSpaceMb = nodeFlagMb("max-old-space-size", sources);
  if (maxOldSpaceMb !== undefined && maxOldSpaceMb > 0 && maxOldSpaceMb < heapMb) {
    return limit(maxOldSpaceMb, "--max-old-space-size");
  }

  const semiSpaceFlagMb = nodeFlagMb("max-semi-space-size", sources);
  if (semiSpaceFlagMb !== undefined && semiSpaceFlagMb > 0) {
    const youngMb = 3 * powerOfTwoAtLeast(semiSpaceFlagMb);
    if (youngMb < heapMb) return limit(heapMb - youngMb, "--max-semi-space-size");
  }

  const rule = youngGenerationRule(inputs.v8Version);
  for (let semiMb = 1; semiMb <= rule.maxSemiSpaceMb; semiMb *= 2) {
    const oldMb = heapMb - 3 * semiMb;
    if (oldMb > 0 && defaultSemiSpaceMb(oldMb, rule) === semiMb) {
      return limit(oldMb, "heap_size_limit");
    }
  }
  return limit(Math.max(heapMb / 2, heapMb - 3 * rule.maxSemiSpaceMb), "heap_size_limit");
}

/** This process's (or this worker's) old-generation limit. */
export function readHeapLimit(): HeapLimit {
  return oldGenerationLimit({
    heapSizeLimitBytes: getHeapStatistics().heap_size_limit,
    v8Version: process.versions.v8,
    execArgv: process.execArgv,
    nodeOptions: process.env.NODE_OPTIONS,
    workerLimits: isMainThread ? undefined : resourceLimits,
  });
}
