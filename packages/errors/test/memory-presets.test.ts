import { describe, expect, it } from "vitest";
import {
  LeangraphError,
  MEMORY_PRESET_NAMES,
  MEMORY_PRESETS,
  memoryPresetFromEnv,
  SharedErrorCode,
} from "../src/index.js";

describe("memory presets", () => {
  it("reads LG_MEMORY_PRESET; unset or empty means no preset", () => {
    expect(memoryPresetFromEnv({})).toBeUndefined();
    expect(memoryPresetFromEnv({ LG_MEMORY_PRESET: "" })).toBeUndefined();
    expect(memoryPresetFromEnv({ LG_MEMORY_PRESET: "small" })).toBe(MEMORY_PRESETS.small);
    expect(memoryPresetFromEnv({ LG_MEMORY_PRESET: " large " })).toBe(MEMORY_PRESETS.large);
  });

  it("rejects an unknown name with the variable, the value and every accepted name", () => {
    let thrown: unknown;
    try {
      memoryPresetFromEnv({ LG_MEMORY_PRESET: "huge" });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LeangraphError);
    expect((thrown as LeangraphError).code).toBe(SharedErrorCode.invalidOption);
    const message = (thrown as LeangraphError).message;
    expect(message).toContain('LG_MEMORY_PRESET="huge"');
    for (const name of MEMORY_PRESET_NAMES) expect(message).toContain(name);
    // Not inherited object keys either.
    expect(() => memoryPresetFromEnv({ LG_MEMORY_PRESET: "toString" })).toThrow(LeangraphError);
  });

  it("grows with the machine and keeps the watchdog's levels ordered", () => {
    const [small, medium, large] = MEMORY_PRESET_NAMES.map((name) => MEMORY_PRESETS[name]!);
    expect(small!.machineMemoryGb).toBeLessThan(medium!.machineMemoryGb);
    expect(medium!.machineMemoryGb).toBeLessThan(large!.machineMemoryGb);
    for (const preset of [small!, medium!, large!]) {
      const { medium: m, high, critical } = preset.pressureLevels;
      expect(m).toBeLessThan(high);
      expect(high).toBeLessThan(critical);
      expect(critical).toBeLessThanOrEqual(1);
      // The isolates at their cap (plus ~64 MB overhead each) fit in half the machine.
      const workersMb = preset.maxWorkerThreads * (preset.workerHeapMb + 64);
      expect(workersMb).toBeLessThan((preset.machineMemoryGb * 1024) / 1.5);
    }
  });
});
