import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  createStepPool,
  ISOLATE_BOOTED_CHANNEL,
  type IsolateBootedEvent,
  LeangraphError,
  WorkersErrorCode,
} from "../src/index.js";
import { step, tempDir } from "./helpers.js";

describe("reuseIsolates", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function pool(options: { reuseIsolates?: boolean; threads?: number }) {
    const dir = tempDir("reuse");
    cleanups.push(dir.remove);
    const created = createStepPool({ outputDir: dir.path, warmUp: false, ...options });
    cleanups.push(() => created.close());
    return created;
  }

  it("hands the next step the isolate whose step succeeded, module state and all", async () => {
    const reusing = pool({ reuseIsolates: true, threads: 1 });
    const results = [];
    for (let index = 0; index < 4; index++) {
      results.push(await reusing.run(step("countCalls", {}, `calls/${index}.txt`)));
    }
    // One isolate, its module loaded once: the counter keeps counting.
    expect(new Set(results.map((result) => result.threadId)).size).toBe(1);
    expect(results.map((result) => readFileSync(result.path, "utf8"))).toEqual([
      "1",
      "2",
      "3",
      "4",
    ]);
  });

  it("runs steps queued beyond its threads on the same isolates, never two at once on one", async () => {
    const reusing = pool({ reuseIsolates: true, threads: 2 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        reusing.run(step("work", { ms: 5 }, `queued/${index}.txt`)),
      ),
    );
    expect(new Set(results.map((result) => result.threadId)).size).toBeLessThanOrEqual(2);
    expect(reusing.stats()).toMatchObject({ succeeded: 10, failed: 0, poolFaults: 0 });
  });

  it("replaces an isolate whose step failed, so the next step starts clean", async () => {
    const reusing = pool({ reuseIsolates: true, threads: 1 });
    const first = await reusing.run(step("countCalls", {}, "before.txt"));
    await expect(reusing.run(step("throwCoded", {}, "never.txt"))).rejects.toMatchObject({
      code: WorkersErrorCode.failed,
    });
    const after = await reusing.run(step("countCalls", {}, "after.txt"));
    expect(after.threadId).not.toBe(first.threadId);
    expect(readFileSync(after.path, "utf8")).toBe("1");
  });

  it("keeps a fresh isolate per step by default", async () => {
    const fresh = pool({ threads: 1 });
    const results = [];
    for (let index = 0; index < 3; index++) {
      results.push(await fresh.run(step("countCalls", {}, `fresh/${index}.txt`)));
    }
    expect(new Set(results.map((result) => result.threadId)).size).toBe(3);
    expect(results.map((result) => readFileSync(result.path, "utf8"))).toEqual(["1", "1", "1"]);
  });

  it("rejects a reuseIsolates that is not a boolean, naming it", () => {
    const dir = tempDir("reuse-invalid");
    cleanups.push(dir.remove);
    let thrown: unknown;
    try {
      createStepPool({ outputDir: dir.path, reuseIsolates: "yes" as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LeangraphError);
    expect((thrown as LeangraphError).code).toBe(WorkersErrorCode.invalidOption);
    expect((thrown as LeangraphError).message).toContain("reuseIsolates");
  });
});

describe("durable: false", () => {
  it("still writes the whole output and its hash", async () => {
    const dir = tempDir("not-durable");
    const stepPool = createStepPool({ outputDir: dir.path, threads: 1, warmUp: false });
    try {
      const result = await stepPool.run({
        ...step("echo", { text: "report" }, "report.json"),
        durable: false,
      });
      expect(readFileSync(result.path, "utf8")).toBe(
        `${JSON.stringify({ text: "report" })} from thread ${result.threadId}`,
      );
      expect(result.bytes).toBe(readFileSync(result.path).byteLength);
    } finally {
      await stepPool.close();
      dir.remove();
    }
  });
});

describe("isolate-booted diagnostics channel", () => {
  it("publishes each isolate's boot time, once per isolate", async () => {
    const events: IsolateBootedEvent[] = [];
    // Channels are process-wide: keep only this pool's events (by its name).
    const listener = (message: unknown) => {
      const event = message as IsolateBootedEvent;
      if (event.pool === "boot-test") events.push(event);
    };
    subscribe(ISOLATE_BOOTED_CHANNEL, listener);
    const dir = tempDir("boot-events");
    const stepPool = createStepPool({
      outputDir: dir.path,
      threads: 1,
      spareWorkers: 1,
      name: "boot-test",
    });
    try {
      const before = performance.now();
      const results = [];
      for (let index = 0; index < 3; index++) {
        results.push(await stepPool.run(step("echo", { index }, `boot/${index}.txt`)));
      }
      // Every step ran in an isolate whose boot was published, and each boot only once.
      const booted = new Set(events.map((event) => event.threadId));
      expect(booted.size).toBe(events.length);
      for (const result of results) expect(booted.has(result.threadId)).toBe(true);
      for (const event of events) {
        expect(event.bootMs).toBeGreaterThan(0);
        expect(event.startedMs).toBeLessThan(performance.now());
      }
      expect(events.some((event) => event.startedMs >= before)).toBe(true);
    } finally {
      unsubscribe(ISOLATE_BOOTED_CHANNEL, listener);
      await stepPool.close();
      dir.remove();
    }
  });
});
