import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import {
  createStepPool,
  STEP_SETTLED_CHANNEL,
  type StepSettledEvent,
  stepSettledChannel,
  WorkersErrorCode,
} from "../src/index.js";
import { step, tempDir } from "./helpers.js";

describe("step-settled diagnostics channel", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("publishes one event per settled step, with outcome, code, attempts and heap peak", async () => {
    const events: StepSettledEvent[] = [];
    const listener = (message: unknown) => events.push(message as StepSettledEvent);
    subscribe(STEP_SETTLED_CHANNEL, listener);
    cleanups.push(() => unsubscribe(STEP_SETTLED_CHANNEL, listener));
    const dir = tempDir("diagnostics");
    cleanups.push(dir.remove);
    const pool = createStepPool({ outputDir: dir.path, threads: 1, warmUp: false });
    cleanups.push(() => pool.close());

    const done = await pool.run(step("echo", { text: "hello" }, "echo.txt"));
    await expect(pool.run(step("throwCoded", {}, "never.txt"))).rejects.toMatchObject({
      code: WorkersErrorCode.failed,
    });

    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      exportName: "echo",
      label: expect.stringContaining("echo"),
      outcome: "succeeded",
      code: undefined,
      attempts: 1,
      heapUsedPeakBytes: done.heapUsedPeakBytes,
      outputBytes: done.bytes,
      mode: "workers",
    });
    expect(events[0]!.durationMs).toBeGreaterThan(0);
    expect(events[1]).toMatchObject({
      outcome: "failed",
      code: WorkersErrorCode.failed,
      attempts: 1,
      heapUsedPeakBytes: undefined,
    });
  });

  it("has no subscriber unless one subscribed (the pool then builds no event)", () => {
    expect(stepSettledChannel.hasSubscribers).toBe(false);
  });
});
