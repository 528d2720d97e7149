import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createStepPool,
  LeangraphError,
  type PressureChange,
  type PressureLevel,
  type PressureSource,
  StepError,
  type StepPool,
  WorkersErrorCode,
} from "../src/index.js";
import { fixtureUrl, step, tempDir } from "./helpers.js";

async function rejectionOf(promise: Promise<unknown>): Promise<StepError> {
  try {
    await promise;
  } catch (error) {
    return error as StepError;
  }
  throw new Error("expected the step to fail");
}

function sha256Of(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Runs `count` echo steps at once and checks each output on disk. */
async function expectHealthy(pool: StepPool, outputDir: string, tag: string, count = 10) {
  const results = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      pool.run(step("echo", { tag, index }, `healthy/${tag}-${index}.txt`)),
    ),
  );
  for (const [index, result] of results.entries()) {
    expect(result.path).toBe(join(outputDir, `healthy/${tag}-${index}.txt`));
    expect(readFileSync(result.path, "utf8")).toBe(
      `${JSON.stringify({ tag, index })} from thread ${result.threadId}`,
    );
  }
  return results;
}

describe("createStepPool with workers", () => {
  const output = tempDir("pool");
  let pool: StepPool;
  const faults: LeangraphError[] = [];

  beforeAll(() => {
    pool = createStepPool({
      outputDir: output.path,
      threads: 2,
      heapMb: 64,
      // The budget the "wall-clock overrun" case runs into. Filling a 64 MB heap until V8 gives
      // up takes 3-6 s on 2 cores under load (Node 20 and 24 alike), so a 3 s budget turned
      // "heap exhaustion" and "output over the size cap" into timeouts.
      stepTimeoutMs: 15_000,
      maxOutputBytes: 64 * 1024,
    });
    pool.on("fault", (fault) => faults.push(fault));
  });
  afterAll(async () => {
    await pool.close();
    output.remove();
  });

  it("runs every one of 100 queued steps in a never-used isolate, two at a time", async () => {
    let peakRunning = 0;
    const watcher = setInterval(() => {
      peakRunning = Math.max(peakRunning, pool.stats().running);
    }, 1);
    const submitted = Array.from({ length: 100 }, (_, index) =>
      pool.run(step("echo", { index }, `fresh/${index}.txt`)),
    );
    // All 100 were accepted at once: most of them wait in the pool's queue.
    expect(pool.stats().waiting).toBeGreaterThan(90);
    const results = await Promise.all(submitted);
    clearInterval(watcher);
    const threadIds = results.map((result) => result.threadId);
    expect(new Set(threadIds).size).toBe(100);
    expect(peakRunning).toBeLessThanOrEqual(2);
    expect(peakRunning).toBe(2);
    for (const [index, result] of results.entries()) {
      expect(result.sha256).toBe(sha256Of(result.path));
      expect(result.bytes).toBe(readFileSync(result.path).byteLength);
      expect(result.heapUsedPeakBytes).toBeGreaterThan(0);
      expect(result.attempts).toBe(1);
      expect(readFileSync(result.path, "utf8")).toBe(
        `${JSON.stringify({ index })} from thread ${result.threadId}`,
      );
    }
    expect(faults).toEqual([]);
  });

  it("gives every step untouched module state", async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        pool.run(step("countCalls", {}, `state/${index}.txt`)),
      ),
    );
    expect(results.map((result) => readFileSync(result.path, "utf8"))).toEqual(
      Array.from({ length: 12 }, () => "1"),
    );
  });

  it("streams chunked output without returning content, and records the step's heap peak", async () => {
    const result = await pool.run(step("bigChunks", { chunks: 40, chunkKb: 1 }, "chunks/big.txt"));
    expect(result.bytes).toBe(40 * 1024);
    expect(result.sha256).toBe(sha256Of(result.path));
    expect(Object.keys(result).sort()).toEqual(
      ["attempts", "bytes", "heapUsedPeakBytes", "ms", "path", "sha256", "threadId"].sort(),
    );
    const asyncResult = await pool.run(
      step("asyncChunks", { parts: ["a", "b", "c"] }, "chunks/async.txt"),
    );
    expect(readFileSync(asyncResult.path, "utf8")).toBe("abc");
    const allocated = await pool.run(step("allocate", { mb: 16 }, "alloc.txt"));
    expect(allocated.heapUsedPeakBytes).toBeGreaterThan(16 * 1024 * 1024);
  });

  it("validates input against the step's own zod schema inside the worker", async () => {
    const ok = await pool.run(step("typedStep", { name: "app", count: 2 }, "typed.txt"));
    expect(readFileSync(ok.path, "utf8")).toBe("app:2");
    const error = await rejectionOf(pool.run(step("typedStep", { name: "" }, "typed-bad.txt")));
    expect(error.code).toBe(WorkersErrorCode.inputInvalid);
    expect(error.message).toContain("count");
  });

  const faultCases: {
    name: string;
    exportName: string;
    input: unknown;
    code: string;
    check?: (error: StepError) => void;
  }[] = [
    {
      name: "heap exhaustion",
      exportName: "exhaustHeap",
      input: {},
      code: WorkersErrorCode.outOfMemory,
    },
    {
      name: "a wall-clock overrun",
      exportName: "spinForever",
      input: {},
      code: WorkersErrorCode.timeout,
    },
    {
      name: "a thrown error",
      exportName: "throwCoded",
      input: {},
      code: WorkersErrorCode.failed,
      check: (error) => {
        const cause = error.cause as Error & { code?: string };
        expect(cause).toBeInstanceOf(Error);
        expect(cause.name).toBe("TypeError");
        expect(cause.message).toBe("model returned no code block");
        expect(cause.code).toBe("E_NO_CODE_BLOCK");
        expect(cause.stack).toContain("throwCoded");
        expect(cause.stack).toContain("steps.mjs");
      },
    },
    {
      name: "process.exit in the step",
      exportName: "exitProcess",
      input: {},
      code: WorkersErrorCode.exited,
    },
    {
      name: "output over the size cap",
      exportName: "bigChunks",
      input: { chunks: 100, chunkKb: 1 },
      code: WorkersErrorCode.outputTooLarge,
    },
    {
      name: "input the step's schema rejects",
      exportName: "typedStep",
      input: { name: 5 },
      code: WorkersErrorCode.inputInvalid,
    },
    {
      name: "a non-content return value",
      exportName: "returnsNumber",
      input: {},
      code: WorkersErrorCode.outputInvalid,
    },
    {
      name: "a missing export",
      exportName: "notAStep",
      input: {},
      code: WorkersErrorCode.stepNotFound,
    },
  ];

  it.each(faultCases)(
    "turns $name into $code, leaves no partial file, and the next 10 steps succeed",
    async ({ exportName, input, code, check }) => {
      const outputName = `faults/${exportName}.out`;
      const error = await rejectionOf(pool.run(step(exportName, input, outputName)));
      expect(error).toBeInstanceOf(StepError);
      // One error type: a step error is a LeangraphError too, the class every package throws.
      expect(error).toBeInstanceOf(LeangraphError);
      expect(error.code).toBe(code);
      expect(error.attempts).toBe(1);
      check?.(error);
      // Nothing half-written: neither the target nor a temp file beside it.
      const leftovers = readdirSync(join(output.path), { recursive: true }).filter((entry) =>
        String(entry).includes(`${exportName}.out`),
      );
      expect(leftovers).toEqual([]);
      await expectHealthy(pool, output.path, exportName);
    },
  );

  it("rejects a request with path traversal before running anything", async () => {
    const before = pool.stats().succeeded;
    const error = await rejectionOf(pool.run(step("echo", {}, "../outside.txt")));
    expect(error.code).toBe(WorkersErrorCode.inputInvalid);
    expect(pool.stats().succeeded).toBe(before);
  });

  it("retries the codes a policy names and reports the attempts made", async () => {
    const retried = await rejectionOf(
      pool.run({ ...step("exitProcess", {}, "retry/exit.txt"), retry: { retries: 2 } }),
    );
    expect(retried.code).toBe(WorkersErrorCode.exited);
    expect(retried.attempts).toBe(3);
    const notRetried = await rejectionOf(
      pool.run({ ...step("throwCoded", {}, "retry/throw.txt"), retry: { retries: 2 } }),
    );
    expect(notRetried.attempts).toBe(1);
    const chosen = await rejectionOf(
      pool.run({
        ...step("throwCoded", {}, "retry/throw2.txt"),
        retry: { retries: 1, retryOn: [WorkersErrorCode.failed] },
      }),
    );
    expect(chosen.attempts).toBe(2);
    const fine = await pool.run({ ...step("echo", {}, "retry/ok.txt"), retry: { retries: 3 } });
    expect(fine.attempts).toBe(1);
  });

  it("never reported a fault outside a step", () => {
    expect(faults).toEqual([]);
  });
});

describe("faults outside any step", () => {
  it("reports a worker that dies while booting, replaces the lost spares, and keeps going", async () => {
    const output = tempDir("boot");
    const counter = tempDir("boot-counter");
    // Isolates 1-4 are the initial ones; #6 boots as a replacement, where piscina would give up
    // replacing workers for good.
    const pool = createStepPool({
      outputDir: output.path,
      threads: 2,
      heapMb: 64,
      preloadModules: [fixtureUrl("fail-boot.mjs", { counter: counter.path, target: 6 })],
    });
    const faults: LeangraphError[] = [];
    pool.on("fault", (fault) => faults.push(fault));
    try {
      await expectHealthy(pool, output.path, "before-boot-failure");
      expect(faults.map((fault) => fault.code)).toEqual([WorkersErrorCode.workerBootFailed]);
      expect(String((faults[0]?.cause as Error | undefined)?.message)).toContain(
        "injected boot failure in isolate #6",
      );
      await expectHealthy(pool, output.path, "after-boot-failure");
      expect(pool.stats().poolFaults).toBe(1);
    } finally {
      await pool.close();
      output.remove();
      counter.remove();
    }
  });

  it("rejects steps with ERR_LG_WORKER_BOOT_FAILED when no isolate can boot, without hanging", async () => {
    const output = tempDir("boot-always");
    const counter = tempDir("boot-always-counter");
    const pool = createStepPool({
      outputDir: output.path,
      threads: 1,
      heapMb: 64,
      preloadModules: [fixtureUrl("fail-boot.mjs", { counter: counter.path, target: 0 })],
    });
    pool.on("fault", () => {});
    try {
      const error = await rejectionOf(pool.run(step("echo", {}, "never.txt")));
      expect(error.code).toBe(WorkersErrorCode.workerBootFailed);
      expect(error.hint).toContain("preloadModules");
    } finally {
      await pool.close();
      output.remove();
      counter.remove();
    }
  });

  it("ends an isolate that never finishes booting, and the next 10 steps succeed", async () => {
    const output = tempDir("boot-hang");
    const counter = tempDir("boot-hang-counter");
    const pool = createStepPool({
      outputDir: output.path,
      threads: 1,
      spareWorkers: 1,
      heapMb: 64,
      bootTimeoutMs: 2_000,
      preloadModules: [fixtureUrl("hang-boot.mjs", { counter: counter.path, target: 1 })],
    });
    try {
      const fault = await new Promise<LeangraphError>((resolve) => pool.on("fault", resolve));
      expect(fault.code).toBe(WorkersErrorCode.workerBootFailed);
      expect(String((fault.cause as Error | undefined)?.message)).toContain("did not boot within");
      await expectHealthy(pool, output.path, "after-boot-hang");
    } finally {
      await pool.close();
      output.remove();
      counter.remove();
    }
  });

  it("lets isolates that are still booting finish before close() ends them", async () => {
    // Ending an isolate mid-boot (its entry module still in top-level await) can abort the whole
    // process inside V8, so close() must wait for isolates that are still booting.
    const output = tempDir("boot-close");
    const counter = tempDir("boot-close-counter");
    const pool = createStepPool({
      outputDir: output.path,
      threads: 1,
      spareWorkers: 1,
      heapMb: 64,
      preloadModules: [fixtureUrl("slow-boot.mjs", { counter: counter.path, ms: 400 })],
    });
    const named = (prefix: string) =>
      readdirSync(counter.path).filter((name) => name.startsWith(prefix)).length;
    try {
      // Both isolates are inside their 400 ms preload once each has claimed a boot number.
      while (named("boot-") < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(named("booted-")).toBe(0);
    } finally {
      await pool.close();
    }
    expect(named("booted-")).toBe(named("boot-"));
    output.remove();
    counter.remove();
  });

  it("reports an error on an idle worker instead of crashing, and the next 10 steps succeed", async () => {
    const output = tempDir("idle");
    const counter = tempDir("idle-counter");
    const pool = createStepPool({
      outputDir: output.path,
      threads: 1,
      spareWorkers: 1,
      heapMb: 64,
      preloadModules: [fixtureUrl("fail-idle.mjs", { counter: counter.path, target: 1 })],
    });
    try {
      const fault = await new Promise<LeangraphError>((resolve) => pool.on("fault", resolve));
      expect(fault.code).toBe(WorkersErrorCode.idleWorkerFailed);
      expect((fault.cause as Error).message).toContain("injected failure in idle isolate #1");
      await expectHealthy(pool, output.path, "after-idle-failure");
    } finally {
      await pool.close();
      output.remove();
      counter.remove();
    }
  });
});

class FakePressure extends EventEmitter implements PressureSource {
  level: PressureLevel = "LOW";
  set(to: PressureLevel) {
    const change: PressureChange = { from: this.level, to, heapFraction: 0 };
    this.level = to;
    this.emit("level", change);
  }
}

describe("memory pressure", () => {
  it("halves concurrency at HIGH, runs one at a time at CRITICAL, and restores it after", async () => {
    const output = tempDir("pressure");
    // A real watchdog's levels follow the real heap; this source lets the test choose them.
    const pressure = new FakePressure();
    const pool = createStepPool({
      outputDir: output.path,
      threads: 4,
      heapMb: 64,
      watchdog: pressure,
    });
    try {
      expect(pool.stats().concurrency).toBe(4);
      pressure.set("HIGH");
      expect(pool.stats().concurrency).toBe(2);
      let peakRunning = 0;
      const watcher = setInterval(() => {
        peakRunning = Math.max(peakRunning, pool.stats().running);
      }, 1);
      await Promise.all(
        Array.from({ length: 8 }, (_, index) => pool.run(step("work", { ms: 30 }, `p/${index}`))),
      );
      expect(peakRunning).toBeLessThanOrEqual(2);
      pressure.set("CRITICAL");
      peakRunning = 0;
      await Promise.all(
        Array.from({ length: 4 }, (_, index) => pool.run(step("work", { ms: 30 }, `c/${index}`))),
      );
      clearInterval(watcher);
      expect(peakRunning).toBe(1);
      pressure.set("LOW");
      expect(pool.stats().concurrency).toBe(4);
    } finally {
      await pool.close();
      expect(pressure.listenerCount("level")).toBe(0);
      output.remove();
    }
  });
});

describe("createStepPool with useWorkers: false", () => {
  it("runs the same step in-process through the same interface", async () => {
    const output = tempDir("inproc");
    const pool = createStepPool({ outputDir: output.path, useWorkers: false, threads: 2 });
    try {
      expect(pool.mode).toBe("in-process");
      const result = await pool.run(step("echo", { a: 1 }, "echo.txt"));
      expect(result.threadId).toBe(0);
      expect(readFileSync(result.path, "utf8")).toBe(`{"a":1} from thread 0`);
      expect(result.sha256).toBe(sha256Of(result.path));
      const error = await rejectionOf(pool.run(step("throwCoded", {}, "t.txt")));
      expect(error.code).toBe(WorkersErrorCode.failed);
      expect((error.cause as { code?: string }).code).toBe("E_NO_CODE_BLOCK");
      const chunked = await pool.run(step("bigChunks", { chunks: 3, chunkKb: 1 }, "big.txt"));
      expect(chunked.bytes).toBe(3 * 1024);
    } finally {
      await pool.close();
      output.remove();
    }
  });
});

describe("pool lifecycle and options", () => {
  it("rejects bad and unknown options naming the option, the value and what is accepted", () => {
    for (const [options, named] of [
      [{ outputDir: "/tmp/x", threads: 0 }, "threads=0 is not accepted: expected a whole number"],
      [{ outputDir: "", heapMb: 4 }, "heapMb=4 is not accepted: expected a whole number of MB"],
      [{ outputDir: "/tmp/x", heapMB: 512 }, "heapMB=512 is not an option"],
      [{ outputDir: "/tmp/x", useWorkers: "no" }, 'useWorkers="no" is not accepted'],
      [{}, "outputDir is missing"],
    ] as const) {
      let error: unknown;
      try {
        createStepPool(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(LeangraphError);
      expect((error as LeangraphError).code).toBe(WorkersErrorCode.invalidOption);
      expect((error as Error).message).toContain(named);
    }
  });

  it("refuses work after close", async () => {
    const output = tempDir("closed");
    const pool = createStepPool({ outputDir: output.path, threads: 1, heapMb: 64 });
    await pool.close();
    const error = await rejectionOf(pool.run(step("echo", {}, "x.txt")));
    expect(error).toBeInstanceOf(LeangraphError);
    expect(error.code).toBe(WorkersErrorCode.poolClosed);
    output.remove();
  });
});
