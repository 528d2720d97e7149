import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readHeapSnapshot, tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./fixtures/watchdog-child.mjs", import.meta.url));

interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

function startChild(
  mode: string,
  options: { heapMb: number; env?: Record<string, string>; cwd?: string; nodeFlags?: string[] },
) {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${options.heapMb}`,
      "--expose-gc",
      ...(options.nodeFlags ?? []),
      CHILD,
      mode,
    ],
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
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
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

const levelOrder = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
const rank = (level: unknown) => levelOrder.indexOf(String(level));

/**
 * The level changes of a heap that fills up: every rise is one step, MEDIUM, HIGH and CRITICAL are
 * first reached in that order, and after CRITICAL come only `after`. A GC (V8's own, or the
 * watchdog's at HIGH) may free enough of the garbage that building each megabyte leaves to take
 * the level one step back before it climbs on (seen on Node 24: HIGH -> MEDIUM -> HIGH); the
 * hysteresis keeps a level from flapping on small frees, not from following a large one.
 */
function expectClimb(levels: Record<string, unknown>[], after: string[]): void {
  const changes = levels.map((event) => ({ from: rank(event.from), to: rank(event.to) }));
  const critical = changes.findIndex((change) => change.to === rank("CRITICAL"));
  expect(critical).toBeGreaterThan(0);
  const climb = changes.slice(0, critical + 1);
  for (const change of climb.filter(({ from, to }) => to > from))
    expect(change.to).toBe(change.from + 1);
  const firstReached = [...new Set(climb.filter(({ from, to }) => to > from).map(({ to }) => to))];
  expect(firstReached.map((at) => levelOrder[at])).toEqual(["MEDIUM", "HIGH", "CRITICAL"]);
  const rest = levels.slice(critical + 1).map((event) => `${event.from}->${event.to}`);
  expect(rest).toEqual(after);
}

// The user's defaults: LG_HEAP_THRESHOLD 0.85, levels at 0.6 / 0.75 / 0.9, no log line.
const defaultsEnv = (snapshotDir: string) => ({
  LG_SNAPSHOT_DIR: snapshotDir,
  LG_MEM_LOG_INTERVAL_S: "0",
  LG_HEAP_THRESHOLD: "",
  LG_MEMORY_PRESET: "",
});

describe("memory watchdog in a heap-capped child process, at the default thresholds", () => {
  // Runs on whichever Node runs the suite (CI: 24 and 20). Before the limit left out the young
  // generation's reserve, a 64 MB process died at 0.57 (Node 20) or 0.25 (Node 24) of it.
  it.each([64, 256, 512])(
    "capped at %i MB and allocating until it dies: HIGH, GC at HIGH, CRITICAL, a threshold snapshot that opens",
    async (heapMb) => {
      const snapshots = tempDir(`snap-oom-${heapMb}`);
      const run = startChild("until-oom", { heapMb, env: defaultsEnv(snapshots.path) });
      try {
        const code = await run.exited;
        expect(code).not.toBe(0);
        expect(run.stderr()).toContain("heap out of memory");
        expect(run.events.find((event) => event.event === "limit")).toMatchObject({
          oldGenerationBytes: heapMb * 1024 * 1024,
          source: "--max-old-space-size",
        });

        expectClimb(
          run.events.filter((event) => event.event === "level"),
          [],
        );
        expect(run.events.find((event) => event.event === "gc")).toMatchObject({ level: "HIGH" });

        const taken = run.events.filter((event) => event.event === "snapshot" && event.taken);
        expect(taken).toHaveLength(1);
        expect(taken[0]).toMatchObject({ reason: "threshold" });
        const path = String(taken[0]?.path);
        expect(path.startsWith(snapshots.path)).toBe(true);
        const snapshot = readHeapSnapshot(path);
        expect(snapshot.nodeCount).toBeGreaterThan(1000);
        // The hoard's 1 MB arrays are in it: the snapshot shows the heap that was filling up.
        expect(snapshot.largestSelfSizeBytes).toBeGreaterThanOrEqual(1024 * 1024);

        // The limit is the one that kills: the last sample before death sits just under it
        // (a limit too high would end below CRITICAL, one too low far above 1).
        const samples = run.events.filter((event) => event.event === "sample");
        const lastFraction = Number(samples.at(-1)?.heapFraction);
        expect(lastFraction).toBeGreaterThanOrEqual(0.9);
        expect(lastFraction).toBeLessThan(1.1);
      } finally {
        snapshots.remove();
      }
    },
  );

  it("climbs LOW -> MEDIUM -> HIGH -> CRITICAL, collects garbage at HIGH, snapshots at the threshold, and calms down", async () => {
    const snapshots = tempDir("snap-threshold");
    const run = startChild("pressure", { heapMb: 64, env: defaultsEnv(snapshots.path) });
    try {
      expect(await run.exited).toBe(0);
      expectClimb(
        run.events.filter((event) => event.event === "level"),
        ["CRITICAL->LOW"],
      );
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
      expect(Number(peaks?.heapFraction)).toBeGreaterThanOrEqual(0.9);
      expect(run.events.at(-1)).toMatchObject({ event: "done", level: "LOW" });
    } finally {
      snapshots.remove();
    }
  });

  it("writes a snapshot on SIGUSR2", async () => {
    const snapshots = tempDir("snap-signal");
    const run = startChild("signal", { heapMb: 64, env: defaultsEnv(snapshots.path) });
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

  it("has V8 write a snapshot just before the heap runs out, into --diagnostic-dir rather than the working directory", async () => {
    const cwd = tempDir("near-limit-cwd");
    const snapshots = tempDir("snap-near-limit");
    const run = startChild("near-limit", {
      heapMb: 24,
      cwd: cwd.path,
      nodeFlags: [`--diagnostic-dir=${snapshots.path}`],
    });
    try {
      const code = await run.exited;
      expect(code).not.toBe(0);
      expect(run.stderr()).toContain("heap out of memory");
      const written = readdirSync(snapshots.path).filter((name) => name.endsWith(".heapsnapshot"));
      expect(written).toHaveLength(1);
      expect(statSync(join(snapshots.path, written[0] as string)).size).toBeGreaterThan(0);
      expect(readdirSync(cwd.path)).toEqual([]);
    } finally {
      cwd.remove();
      snapshots.remove();
    }
  });
});
