import { describe, expect, it } from "vitest";
import {
  DEFAULT_SNAPSHOT_DIR,
  parseWorkersEnv,
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
});
