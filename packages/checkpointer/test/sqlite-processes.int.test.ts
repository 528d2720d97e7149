import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { digestFiles, expectedDigest, runAppendWorkload } from "./fixtures/append-workload.js";
import { makeTempDir } from "./helpers.js";

const childScript = fileURLToPath(new URL("./fixtures/append-process.ts", import.meta.url));
// Above the 64 KiB threshold, so every step writes a blob as well as rows.
const fileBytes = 70_000;
const temp = makeTempDir("processes");
afterAll(() => temp.remove());

function startChild(dbPath: string, threadId: string, steps: number): ChildProcess {
  // node itself runs the script (tsx as a loader, not its CLI): a signal reaches the process that
  // holds the database, not a wrapper.
  return spawn(
    process.execPath,
    ["--import", "tsx", childScript, dbPath, threadId, String(steps), String(fileBytes)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

async function finish(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

function checkpointCount(dbPath: string, threadId: string): number {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    return (
      db.prepare("SELECT COUNT(*) AS n FROM lg_checkpoints WHERE thread_id = ?").get(threadId) as {
        n: number;
      }
    ).n;
  } catch {
    // Not created or not migrated yet.
    return 0;
  } finally {
    db?.close();
  }
}

describe("LeanSqliteSaver across processes", () => {
  it("two processes append to one file at once, and a third runs gc meanwhile: no SQLITE_BUSY, nothing lost", async () => {
    const dbPath = join(temp.dir, "shared.sqlite");
    const steps = 25;
    const children = [startChild(dbPath, "left", steps), startChild(dbPath, "right", steps)];
    const results = children.map(finish);
    // This process collects garbage with no grace period while both write, the harshest case:
    // blobs written but not yet committed have no item row, so gc deletes them, and each put must
    // notice under its write lock and write them again.
    const collector = LeanSqliteSaver.fromConnString(dbPath);
    let collections = 0;
    let running = true;
    void Promise.all(results).finally(() => {
      running = false;
    });
    while (running) {
      await collector.gc({ graceMs: 0 });
      collections += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const { code, stdout, stderr } of await Promise.all(results)) {
      expect(stderr).not.toContain("SQLITE_BUSY");
      expect(code, stderr).toBe(0);
      const line = JSON.parse(stdout.trim().split("\n").pop()!);
      expect(line.files).toBe(steps);
      expect(line.digest).toBe(expectedDigest(steps, fileBytes));
    }
    expect(collections).toBeGreaterThan(0);
    for (const threadId of ["left", "right"]) {
      const tuple = await collector.getTuple({ configurable: { thread_id: threadId } });
      expect(digestFiles(tuple!.checkpoint.channel_values.files as string[])).toBe(
        expectedDigest(steps, fileBytes),
      );
    }
    await collector.close();
  });

  it("SIGKILL mid-run leaves a database that opens, and the thread resumes to the right result", async () => {
    const dbPath = join(temp.dir, "killed.sqlite");
    const steps = 200;
    const child = startChild(dbPath, "victim", steps);
    const exited = finish(child);
    // Kill once some steps are committed but long before the run could finish.
    while (checkpointCount(dbPath, "victim") < 15)
      await new Promise((resolve) => setTimeout(resolve, 25));
    child.kill("SIGKILL");
    const killed = await exited;
    expect(killed.code).toBeNull();

    // The file opens and the newest checkpoint is whole: files 0..n-1, exactly.
    const reopened = LeanSqliteSaver.fromConnString(dbPath);
    const latest = await reopened.getTuple({ configurable: { thread_id: "victim" } });
    const partial = latest!.checkpoint.channel_values.files as string[];
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(steps);
    expect(digestFiles(partial)).toBe(expectedDigest(partial.length, fileBytes));
    // Whatever the kill orphaned (a blob written, its row never committed) is only garbage.
    await reopened.gc({ graceMs: 0 });
    await reopened.close();

    const resumed = await finish(startChild(dbPath, "victim", steps));
    expect(resumed.code, resumed.stderr).toBe(0);
    const line = JSON.parse(resumed.stdout.trim().split("\n").pop()!);
    expect(line.resumed).toBe(true);
    expect(line.files).toBe(steps);
    expect(line.digest).toBe(expectedDigest(steps, fileBytes));
  });

  it("in-process concurrency: parallel threads on one saver serialize their write transactions", async () => {
    const saver = LeanSqliteSaver.fromConnString(join(temp.dir, "parallel.sqlite"));
    await Promise.all(
      ["a", "b", "c"].map((threadId) =>
        runAppendWorkload(saver, { steps: 5, fileBytes, threadId }),
      ),
    );
    for (const threadId of ["a", "b", "c"]) {
      const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
      expect(digestFiles(tuple!.checkpoint.channel_values.files as string[])).toBe(
        expectedDigest(5, fileBytes),
      );
    }
    await saver.close();
  });
});
