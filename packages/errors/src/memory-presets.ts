import { SharedErrorCode } from "./codes.js";
import { LeangraphError } from "./leangraph-error.js";

/*
 * LG_MEMORY_PRESET: one name that sets every memory knob for a machine size, the way seed 004
 * offered "2 GB / 6 GB / 12 GB" choices instead of a page of numbers. The table lives here, once,
 * because two packages read it where they parse the flags a preset stands in for:
 * @leangraph/workers (worker heap cap, threads, watchdog thresholds) and @leangraph/serde (blob
 * cache). An explicit flag always wins over the preset.
 */

export type MemoryPresetName = "small" | "medium" | "large";

export interface MemoryPreset {
  /** The machine it is sized for (RAM in GB), for messages and the README table. */
  machineMemoryGb: number;
  /** `LG_WORKER_HEAP_MB`: old-generation cap of each step's isolate. */
  workerHeapMb: number;
  /**
   * Upper bound on `LG_WORKER_THREADS`. The default below it still never exceeds what fits in
   * available memory at the heap cap, or the cores.
   */
  maxWorkerThreads: number;
  /** `LG_HEAP_THRESHOLD`: heap used / heap limit at which the watchdog writes a snapshot. */
  heapSnapshotThreshold: number;
  /** Where the watchdog's MEDIUM, HIGH and CRITICAL pressure levels start (heap fractions). */
  pressureLevels: { medium: number; high: number; critical: number };
  /** `LG_BLOB_CACHE_SIZE`: bytes of large strings the serializer remembers. */
  blobCacheBytes: number;
}

const MiB = 1024 * 1024;

/**
 * Sized so that the worker isolates at their cap plus the main process fit in the machine with
 * room for the OS: small runs one 256 MB isolate (~320 MB with its overhead) beside the agent;
 * large runs up to eight 2 GB isolates (~17 GB). Smaller machines also react earlier (lower
 * thresholds), because there is less room between "high" and the OOM killer.
 */
export const MEMORY_PRESETS: Readonly<Record<MemoryPresetName, Readonly<MemoryPreset>>> = {
  small: {
    machineMemoryGb: 2,
    workerHeapMb: 256,
    maxWorkerThreads: 1,
    heapSnapshotThreshold: 0.8,
    pressureLevels: { medium: 0.5, high: 0.65, critical: 0.8 },
    blobCacheBytes: 64 * MiB,
  },
  medium: {
    machineMemoryGb: 8,
    workerHeapMb: 768,
    maxWorkerThreads: 4,
    heapSnapshotThreshold: 0.85,
    pressureLevels: { medium: 0.6, high: 0.75, critical: 0.9 },
    blobCacheBytes: 256 * MiB,
  },
  large: {
    machineMemoryGb: 32,
    workerHeapMb: 2048,
    maxWorkerThreads: 8,
    heapSnapshotThreshold: 0.9,
    pressureLevels: { medium: 0.65, high: 0.8, critical: 0.92 },
    blobCacheBytes: 2048 * MiB,
  },
};

export const MEMORY_PRESET_NAMES = Object.keys(MEMORY_PRESETS) as readonly MemoryPresetName[];

/** What LG_MEMORY_PRESET accepts, quoted by every package that rejects a value. */
export const acceptedMemoryPreset = `one of ${MEMORY_PRESET_NAMES.map(
  (name) => `${name} (for ${MEMORY_PRESETS[name].machineMemoryGb} GB of RAM)`,
).join(", ")}`;

export function isMemoryPresetName(value: unknown): value is MemoryPresetName {
  return typeof value === "string" && Object.hasOwn(MEMORY_PRESETS, value);
}

/**
 * The preset LG_MEMORY_PRESET names, or undefined when it is unset or empty. A name that is not
 * a preset throws ERR_LG_INVALID_OPTION naming the variable, its value and the accepted names.
 */
export function memoryPresetFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Readonly<MemoryPreset> | undefined {
  const value = env.LG_MEMORY_PRESET?.trim();
  if (value === undefined || value === "") return undefined;
  if (!isMemoryPresetName(value)) {
    throw new LeangraphError(
      SharedErrorCode.invalidOption,
      `LG_MEMORY_PRESET=${JSON.stringify(value)} is not accepted: expected ${acceptedMemoryPreset}.`,
      { hint: "Unset LG_MEMORY_PRESET to use the defaults, or set the LG_* flags one by one." },
    );
  }
  return MEMORY_PRESETS[value];
}
