/** Heap pressure, ordered from calm to about-to-crash. */
export type PressureLevel = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";

export const PRESSURE_LEVELS: readonly PressureLevel[] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

/** Fractions of the old generation's limit (`readHeapLimit()`) at which each level starts. */
export interface PressureThresholds {
  /** @default 0.6 */
  medium: number;
  /** @default 0.75 */
  high: number;
  /** @default 0.9 */
  critical: number;
}

export const DEFAULT_PRESSURE_THRESHOLDS: PressureThresholds = {
  medium: 0.6,
  high: 0.75,
  critical: 0.9,
};

export function pressureLevelOf(
  heapFraction: number,
  thresholds: PressureThresholds,
): PressureLevel {
  if (heapFraction >= thresholds.critical) return "CRITICAL";
  if (heapFraction >= thresholds.high) return "HIGH";
  if (heapFraction >= thresholds.medium) return "MEDIUM";
  return "LOW";
}

/** The heap fraction at which `level` begins (0 for LOW). */
export function levelStart(level: PressureLevel, thresholds: PressureThresholds): number {
  if (level === "CRITICAL") return thresholds.critical;
  if (level === "HIGH") return thresholds.high;
  if (level === "MEDIUM") return thresholds.medium;
  return 0;
}

export function isAtLeast(level: PressureLevel, floor: PressureLevel): boolean {
  return PRESSURE_LEVELS.indexOf(level) >= PRESSURE_LEVELS.indexOf(floor);
}

export interface PressureChange {
  from: PressureLevel;
  to: PressureLevel;
  /** Heap used / heap limit at the sample that changed the level. */
  heapFraction: number;
}

/** What the step pool needs from a watchdog to throttle itself; `MemoryWatchdog` provides it. */
export interface PressureSource {
  readonly level: PressureLevel;
  on(event: "level", listener: (change: PressureChange) => void): unknown;
  off(event: "level", listener: (change: PressureChange) => void): unknown;
}
