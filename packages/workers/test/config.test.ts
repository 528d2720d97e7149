import { MEMORY_PRESET_NAMES, MEMORY_PRESETS } from "@leangraph/errors";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SNAPSHOT_DIR,
  defaultWorkerThreads,
  parseWorkersEnv,
  startMemoryWatchdog,
  stepPoolOptionsFromEnv,
  WorkersErrorCode,
  watchdogOptionsFromEnv,
} from "../src/index.js";

function thrown(run: () => unknown): { code?: string; message: string } {
  try {
    run();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

describe("LG_* flags", () => {
  it("applies the documented defaults when nothing is set", () => {
    const pool = stepPoolOptionsFromEnv({});
    expect(pool).toMatchObject({
      useWorkers: true,
      heapMb: 768,
      stepTimeoutMs: 600_000,
      maxOutputBytes: 256 * 1024 * 1024,
    });
    expect(pool.threads).toBeGreaterThanOrEqual(1);
    expect(watchdogOptionsFromEnv({})).toEqual({
      enabled: true,
      logIntervalS: 60,
      heapThreshold: 0.85,
      snapshotDir: DEFAULT_SNAPSHOT_DIR,
    });
  });

  it("reads every flag", () => {
    const env = {
      LG_USE_WORKERS: "off",
      LG_WORKER_THREADS: "3",
      LG_WORKER_HEAP_MB: "256",
      LG_STEP_TIMEOUT_MS: "1500",
      LG_STEP_MAX_OUTPUT_MB: "0.5",
      LG_MEM_WATCHDOG: "false",
      LG_MEM_LOG_INTERVAL_S: "0",
      LG_HEAP_THRESHOLD: "0.7",
      LG_SNAPSHOT_DIR: "/var/tmp/snaps",
    };
    expect(stepPoolOptionsFromEnv(env)).toEqual({
      useWorkers: false,
      threads: 3,
      heapMb: 256,
      stepTimeoutMs: 1500,
      maxOutputBytes: 512 * 1024,
    });
    expect(watchdogOptionsFromEnv(env)).toEqual({
      enabled: false,
      logIntervalS: 0,
      heapThreshold: 0.7,
      snapshotDir: "/var/tmp/snaps",
    });
  });

  it("treats an empty value as unset", () => {
    expect(stepPoolOptionsFromEnv({ LG_WORKER_HEAP_MB: "" }).heapMb).toBe(768);
  });

  it.each([
    ["LG_WORKER_HEAP_MB", "lots", "from 16 to 65536"],
    ["LG_WORKER_HEAP_MB", "8", "from 16 to 65536"],
    ["LG_USE_WORKERS", "maybe", "on|off"],
    ["LG_WORKER_THREADS", "0", "from 1 to 256"],
    ["LG_HEAP_THRESHOLD", "1.5", "at most 1"],
    ["LG_STEP_MAX_OUTPUT_MB", "-1", "greater than 0"],
  ])(
    "rejects %s=%s naming the variable, the value and what is accepted",
    (name, value, accepted) => {
      const error = thrown(() => parseWorkersEnv({ [name]: value }));
      expect(error.code).toBe(WorkersErrorCode.invalidOption);
      expect(error.message).toContain(`${name}="${value}"`);
      expect(error.message).toContain(accepted);
    },
  );

  it("reports every bad flag at once", () => {
    const error = thrown(() =>
      parseWorkersEnv({ LG_WORKER_THREADS: "many", LG_MEM_LOG_INTERVAL_S: "soon" }),
    );
    expect(error.message).toContain("LG_WORKER_THREADS");
    expect(error.message).toContain("LG_MEM_LOG_INTERVAL_S");
  });

  describe("LG_STEP_QUEUE", () => {
    it("is off by default, and with a Redis URL names the queue (LG_STEP_QUEUE_NAME or the default)", () => {
      expect(stepPoolOptionsFromEnv({}).queue).toBeUndefined();
      expect(stepPoolOptionsFromEnv({ LG_STEP_QUEUE: "redis://10.0.0.5:6379/2" }).queue).toEqual({
        connection: "redis://10.0.0.5:6379/2",
        name: "leangraph-steps",
      });
      expect(
        stepPoolOptionsFromEnv({ LG_STEP_QUEUE: "rediss://q:6380", LG_STEP_QUEUE_NAME: "codegen" })
          .queue,
      ).toEqual({ connection: "rediss://q:6380", name: "codegen" });
    });

    it("rejects what is not a Redis URL, and a queue name with ':', never showing a password", () => {
      const url = thrown(() =>
        parseWorkersEnv({ LG_STEP_QUEUE: "http://user:hunter2@127.0.0.1:6379" }),
      );
      expect(url.code).toBe(WorkersErrorCode.invalidOption);
      expect(url.message).toContain("LG_STEP_QUEUE");
      expect(url.message).toContain("redis://");
      expect(url.message).not.toContain("hunter2");
      const name = thrown(() => parseWorkersEnv({ LG_STEP_QUEUE_NAME: "steps:urgent" }));
      expect(name.message).toContain("LG_STEP_QUEUE_NAME");
    });
  });

  describe("LG_MEMORY_PRESET", () => {
    it("sets the heap cap, caps the default threads, and sets the watchdog's thresholds", () => {
      for (const name of MEMORY_PRESET_NAMES) {
        const preset = MEMORY_PRESETS[name];
        const env = { LG_MEMORY_PRESET: name };
        const pool = stepPoolOptionsFromEnv(env);
        expect(pool.heapMb).toBe(preset.workerHeapMb);
        expect(pool.threads).toBeLessThanOrEqual(preset.maxWorkerThreads);
        expect(pool.threads).toBeLessThanOrEqual(defaultWorkerThreads(preset.workerHeapMb));
        expect(pool.threads).toBeGreaterThanOrEqual(1);
        const watchdog = watchdogOptionsFromEnv(env);
        expect(watchdog.heapThreshold).toBe(preset.heapSnapshotThreshold);
        expect(watchdog.levels).toEqual(preset.pressureLevels);
        // The watchdog takes them as they are and reports them back.
        const started = startMemoryWatchdog({ ...watchdog, enabled: false, snapshotSignal: null });
        expect(started.thresholds()).toEqual({
          ...preset.pressureLevels,
          snapshot: preset.heapSnapshotThreshold,
        });
        started.stop();
      }
      expect(stepPoolOptionsFromEnv({ LG_MEMORY_PRESET: "small" }).threads).toBe(1);
    });

    it("loses to every explicit flag", () => {
      const env = {
        LG_MEMORY_PRESET: "small",
        LG_WORKER_HEAP_MB: "1024",
        LG_WORKER_THREADS: "3",
        LG_HEAP_THRESHOLD: "0.95",
      };
      expect(stepPoolOptionsFromEnv(env)).toMatchObject({ heapMb: 1024, threads: 3 });
      expect(watchdogOptionsFromEnv(env).heapThreshold).toBe(0.95);
    });

    it("without a preset, the watchdog keeps its own default levels", () => {
      expect(watchdogOptionsFromEnv({}).levels).toBeUndefined();
      const started = startMemoryWatchdog({ enabled: false, snapshotSignal: null });
      expect(started.thresholds()).toEqual({
        medium: 0.6,
        high: 0.75,
        critical: 0.9,
        snapshot: 0.85,
      });
      started.stop();
    });

    it("rejects an unknown preset naming the variable, the value and the presets", () => {
      const error = thrown(() => parseWorkersEnv({ LG_MEMORY_PRESET: "xl" }));
      expect(error.code).toBe(WorkersErrorCode.invalidOption);
      expect(error.message).toContain('LG_MEMORY_PRESET="xl"');
      expect(error.message).toContain("small (for 2 GB of RAM), medium (for 8 GB of RAM)");
    });
  });
});
