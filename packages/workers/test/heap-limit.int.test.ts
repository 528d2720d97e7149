import { execFileSync } from "node:child_process";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";

const DIST = new URL("../dist/index.js", import.meta.url).href;
const PRINT_LIMIT = `import(${JSON.stringify(DIST)}).then((m) => console.log(JSON.stringify(m.readHeapLimit())))`;
const MB = 1024 * 1024;

/** readHeapLimit() as a fresh process started by the Node running the suite sees it. */
function limitInChild(nodeArgs: string[], env: Record<string, string> = {}) {
  const out = execFileSync(process.execPath, [...nodeArgs, "-e", PRINT_LIMIT], {
    env: { ...process.env, NODE_OPTIONS: "", ...env },
    encoding: "utf8",
  });
  return JSON.parse(out) as {
    oldGenerationBytes: number;
    source: string;
    heapSizeLimitBytes: number;
  };
}

describe("readHeapLimit on the Node running the suite", () => {
  it("reads --max-old-space-size from the command line and from NODE_OPTIONS", () => {
    expect(limitInChild(["--max-old-space-size=80"])).toMatchObject({
      oldGenerationBytes: 80 * MB,
      source: "--max-old-space-size",
    });
    expect(limitInChild([], { NODE_OPTIONS: "--max_old_space_size=96" })).toMatchObject({
      oldGenerationBytes: 96 * MB,
      source: "--max-old-space-size",
    });
  });

  it("finds V8's own split when nothing is set: heap_size_limit minus the young generation", () => {
    const limit = limitInChild([]);
    expect(limit.source).toBe("heap_size_limit");
    const youngMb = (limit.heapSizeLimitBytes - limit.oldGenerationBytes) / MB;
    // 3 semi-spaces of a power of two from 1 to 64 MB.
    expect([3, 6, 12, 24, 48, 96, 192]).toContain(youngMb);
  });

  it("reads a worker thread's resourceLimits inside the worker", async () => {
    const worker = new Worker(
      `${PRINT_LIMIT.replace("console.log(", "require('node:worker_threads').parentPort.postMessage(")}`,
      { eval: true, resourceLimits: { maxOldGenerationSizeMb: 72 } },
    );
    try {
      const message = await new Promise<string>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(JSON.parse(message)).toMatchObject({
        oldGenerationBytes: 72 * MB,
        source: "resourceLimits",
      });
    } finally {
      await worker.terminate();
    }
  });
});
