import type { StoredCheckpoint } from "@leangraph/checkpointer";
import { describe, expect, it } from "vitest";
import { keepCountFor } from "../src/lean/lifecycle.js";

const dayMs = 86_400_000;
const nowMs = Date.parse("2025-06-30T00:00:00Z");

/** Checkpoints of one namespace, one per day, the newest `newestAgeDays` old. */
function daily(count: number, checkpointNs = "", newestAgeDays = 0): StoredCheckpoint[] {
  return Array.from({ length: count }, (_, index) => ({
    threadId: "t",
    checkpointNs,
    checkpointId: `${checkpointNs}-${String(index).padStart(4, "0")}`,
    parentCheckpointId: undefined,
    ts: new Date(nowMs - (count - 1 - index + newestAgeDays) * dayMs).toISOString(),
    writeCount: 0,
  }));
}

describe("prune on today's API (keepCountFor)", () => {
  it("keepLast alone keeps the newest N of each namespace", () => {
    expect(keepCountFor([...daily(10), ...daily(4, "sub")], 3, undefined, nowMs)).toEqual({
      keep: 3,
      deletable: 7 + 1,
    });
  });

  it("with an age, keeps every checkpoint younger than it, and at least keepLast", () => {
    // 10 daily checkpoints, ages 0..9 days; older than 5.5 days: ages 6..9 -> 4 deletable.
    expect(keepCountFor(daily(10), 1, 5.5 * dayMs, nowMs)).toEqual({ keep: 6, deletable: 4 });
    expect(keepCountFor(daily(10), 8, 5.5 * dayMs, nowMs)).toEqual({ keep: 8, deletable: 2 });
    // All older than the age: only keepLast stays.
    expect(keepCountFor(daily(10, "", 100), 1, 30 * dayMs, nowMs)).toEqual({
      keep: 1,
      deletable: 9,
    });
  });

  it("takes the largest need over namespaces, so no namespace loses a young checkpoint", () => {
    const root = daily(10, "", 50); // all old
    const sub = daily(10, "sub"); // ages 0..9 days
    const { keep, deletable } = keepCountFor([...root, ...sub], 1, 5.5 * dayMs, nowMs);
    expect(keep).toBe(6);
    expect(deletable).toBe(4 + 4);
  });

  it("counts a checkpoint whose ts cannot be read as young: never deleted on a guess", () => {
    const list = daily(5, "", 100);
    list[0] = { ...list[0]!, ts: undefined };
    expect(keepCountFor(list, 1, dayMs, nowMs)).toEqual({ keep: 5, deletable: 0 });
  });
});
