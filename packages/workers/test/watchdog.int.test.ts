import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./fixtures/watchdog-child.mjs", import.meta.url));

interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

function startChild(
  mode: string,
  options: { heapMb: number; env?: Record<string, string>; cwd?: string },
) {
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${options.heapMb}`, "--expose-gc", CHILD, mode],
    {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const events: ChildEvent[] = [];
  let buffered = "";
  let stderr = "";
  const listeners = new Set<(event: ChildEvent) => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      const event = JSON.parse(buffered.slice(0, newline)) as ChildEvent;
      buffered = buffered.slice(newline + 1);
      events.push(event);
      for (const listener of listeners) listener(event);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const waitFor = (name: string) =>
    new Promise<ChildEvent>((resolve) => {
      const found = events.find((event) => event.event === name);
      if (found) return resolve(found);
      const listener = (event: ChildEvent) => {
        if (event.event !== name) return;
        listeners.delete(listener);
        resolve(event);
      };
      listeners.add(listener);
    });
  return { child: child as ChildProcess, events, exited, waitFor, stderr: () => stderr };
}

describe("memory watchdog in a small-heap child process", () => {
  it("climbs LOW -> MEDIUM -> HIGH -> CRITICAL, collects garbage at HIGH, snapshots at the threshold, and calms down", async () => {
    const snapshots = tempDir("snap-threshold");
    const run = startChild("pressure", {
      heapMb: 64,
      env: {
        LG_SNAPSHOT_DIR: snapshots.path,
        LG_HEAP_THRESHOLD: "0.35",
        LG_MEM_LOG_INTERVAL_S: "0",
      },
    });
    try {
      expect(await run.exited).toBe(0);
      const levels = run.events.filter((event) => event.event === "level");
      expect(levels.map((event) => `${event.from}->${event.to}`)).toEqual([
        "LOW->MEDIUM",
        "MEDIUM->HIGH",
        "HIGH->CRITICAL",
        "CRITICAL->LOW",
      ]);
      const gc = run.events.find((event) => event.event === "gc");
      expect(gc).toMatchObject({ level: "HIGH" });
      expect(
        run.events.some((event) =>
          String(event.line).startsWith("[mem] gc at HIGH pressure freed"),
        ),
      ).toBe(true);

      const taken = run.events.filter((event) => event.event === "snapshot" && event.taken);
      // One threshold crossing, one snapshot: the cooldown holds back the rest.
      expect(taken).toHaveLength(1);
      expect(taken[0]).toMatchObject({ reason: "threshold" });
      const path = String(taken[0]?.path);
      expect(path.startsWith(snapshots.path)).toBe(true);
      expect(statSync(path).size).toBeGreaterThan(1024 * 1024);
      expect(readdirSync(snapshots.path)).toEqual([path.split("/").pop()]);

      const peaks = run.events.find((event) => event.event === "peaks");
      expect(peaks).toMatchObject({ level: "CRITICAL" });
      expect(Number(peaks?.heapFraction)).toBeGreaterThanOrEqual(0.4);
      expect(run.events.at(-1)).toMatchObject({ event: "done", level: "LOW" });
    } finally {
      snapshots.remove();
    }
  });

  it("writes a snapshot on SIGUSR2", async () => {
    const snapshots = tempDir("snap-signal");
    const run = startChild("signal", {
      heapMb: 64,
      env: { LG_SNAPSHOT_DIR: snapshots.path, LG_MEM_LOG_INTERVAL_S: "0" },
    });
    try {
      await run.waitFor("ready");
      run.child.kill("SIGUSR2");
      const snapshot = await run.waitFor("snapshot");
      expect(snapshot).toMatchObject({ taken: true, reason: "signal" });
      expect(existsSync(String(snapshot.path))).toBe(true);
      await run.waitFor("done");
      run.child.kill("SIGTERM");
      await run.exited;
    } finally {
      snapshots.remove();
    }
  });

  it("has V8 write a snapshot just before the heap runs out (setHeapSnapshotNearHeapLimit)", async () => {
    const cwd = tempDir("snap-near-limit");
    const run = startChild("near-limit", { heapMb: 24, cwd: cwd.path });
    try {
      const code = await run.exited;
      expect(code).not.toBe(0);
      expect(run.stderr()).toContain("heap out of memory");
      const written = readdirSync(cwd.path).filter((name) => name.endsWith(".heapsnapshot"));
      expect(written).toHaveLength(1);
      expect(statSync(join(cwd.path, written[0] as string)).size).toBeGreaterThan(0);
    } finally {
      cwd.remove();
    }
  });
});
