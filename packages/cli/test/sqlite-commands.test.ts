import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { createFsBlobStore } from "@leangraph/serde";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliErrorCode } from "../src/errors.js";
import { ExitCode } from "../src/exit-codes.js";
import { normalized } from "./fixtures/compare-savers.js";
import { buildLeanSqlite, openLeanSqlite } from "./fixtures/lean-databases.js";
import { leangraph } from "./fixtures/run-in-process.js";
import { buildStockSqlite, stockContents } from "./fixtures/stock-databases.js";
import { makeTempDir } from "./helpers.js";

const temp = makeTempDir("commands");
const stock = join(temp.dir, "stock.sqlite");
const lean = join(temp.dir, "lean.sqlite");
let copies = 0;

/** A private copy of the lean database (file + blob directory) for a test that changes it. */
function leanCopy(): string {
  copies += 1;
  const path = join(temp.dir, `copy-${copies}.sqlite`);
  cpSync(lean, path);
  cpSync(`${lean}.blobs`, `${path}.blobs`, { recursive: true });
  return path;
}

async function blobIds(path: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of createFsBlobStore({ dir: `${path}.blobs` }).list()) ids.push(id);
  return ids;
}

beforeAll(async () => {
  await buildStockSqlite(stock);
  await buildLeanSqlite(lean);
});
afterAll(() => temp.remove());

describe("leangraph inspect", () => {
  it("on a stock database puts the channel and the values that make it big first", async () => {
    const run = await leangraph("inspect", stock, "--json");
    expect(run.code).toBe(ExitCode.ok);
    const report = run.json;
    expect(report).toMatchObject({ kind: "stock", backend: "sqlite" });
    expect(report.totals).toMatchObject({ threads: 4 });
    expect(report.channels[0].channel).toBe("files");
    expect(report.threads[0].threadId).toBe("append");
    // files[0] is in every checkpoint after the first step: the most stored bytes of all.
    const top = report.largestValues.slice(0, stockContents.appendSteps);
    expect(top.map((value: { path: string }) => value.path)).toEqual(
      Array.from({ length: stockContents.appendSteps }, (_, index) => `files[${index}]`),
    );
    expect(top[0].bytes).toBe(stockContents.appendFileBytes + 2);
    expect(top[0].copies).toBeGreaterThan(top[1].copies);
    expect(top[0].storedBytes).toBe(top[0].bytes * top[0].copies);

    const text = await leangraph("inspect", stock);
    const firstLines = text.stdout.split("\n").slice(0, 5).join("\n");
    expect(firstLines).toContain('channel "files"');
    expect(firstLines).toContain("files[0]");
  });

  it("on a lean database reports unique bytes, latest values and orphan blobs", async () => {
    const path = leanCopy();
    const clean = await leangraph("inspect", path, "--json");
    expect(clean.json).toMatchObject({ kind: "lean", orphanBlobs: [], missingPieces: 0 });
    expect(clean.json.channels[0].channel).toBe("files");
    expect(clean.json.largestValues[0].path).toMatch(/^files\[\d\]$/);
    expect(clean.json.totals.blobCount).toBe(stockContents.appendSteps);

    const orphan = await createFsBlobStore({ dir: `${path}.blobs` }).put(
      Buffer.from("nothing refers to me"),
    );
    const withOrphan = await leangraph("inspect", path, "--json");
    expect(withOrphan.json.orphanBlobs).toEqual([
      expect.objectContaining({ id: orphan, bytes: 20 }),
    ]);
  });
});

describe("leangraph stats", () => {
  it("counts the same threads, checkpoints and writes in a stock and a lean database of one workload", async () => {
    const stockStats = (await leangraph("stats", stock, "--json")).json;
    const leanStats = (await leangraph("stats", lean, "--json")).json;
    expect(stockStats).toMatchObject({ kind: "stock", threads: 4 });
    expect(leanStats).toMatchObject({
      kind: "lean",
      threads: 4,
      blobCount: stockContents.appendSteps,
    });
    expect(leanStats.checkpoints).toBe(stockStats.checkpoints);
    expect(leanStats.writes).toBe(stockStats.writes);
    expect(leanStats.databaseBytes + leanStats.blobBytes).toBeLessThan(stockStats.databaseBytes);
  });
});

describe("leangraph compact", () => {
  it("compresses bodies stored plain, keeps every value, and a rerun has nothing left to do", async () => {
    const path = join(temp.dir, "uncompressed.sqlite");
    await buildLeanSqlite(path, "off");
    const before = openLeanSqlite(path);
    const tuplesBefore = await normalizedThreads(before);
    const statsBefore = await before.storageStats();
    await before.close();

    const run = await leangraph("compact", path, "--json");
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    expect(run.json).toMatchObject({ status: "done", compression: "brotli-4" });
    expect(run.json.items.rewritten).toBeGreaterThan(0);
    expect(run.json.items.bytesAfter).toBeLessThan(run.json.items.bytesBefore);
    expect(run.json.blobs.rewritten).toBe(stockContents.appendSteps);
    expect(run.json.blobs.bytesAfter).toBeLessThan(run.json.blobs.bytesBefore * 0.7);

    const again = await leangraph("compact", path, "--json");
    expect(again.json).toMatchObject({ items: { rewritten: 0 }, blobs: { rewritten: 0 } });
    expect((await leangraph("verify", path, "--json")).json).toMatchObject({
      ok: true,
      damage: [],
    });
    const after = openLeanSqlite(path);
    expect(await normalizedThreads(after)).toEqual(tuplesBefore);
    expect((await after.storageStats()).blobBytes).toBeLessThan(statsBefore.blobBytes);
    await after.close();
  });

  it("with LG_COMPRESSION=off has nothing to do", async () => {
    const saved = process.env.LG_COMPRESSION;
    process.env.LG_COMPRESSION = "off";
    try {
      const run = await leangraph("compact", leanCopy(), "--json");
      expect(run.code).toBe(ExitCode.ok);
      expect(run.json).toMatchObject({ compression: "off", items: { rewritten: 0 } });
    } finally {
      if (saved === undefined) delete process.env.LG_COMPRESSION;
      else process.env.LG_COMPRESSION = saved;
    }
  });
});

async function normalizedThreads(saver: ReturnType<typeof openLeanSqlite>) {
  const threads: Record<string, unknown[]> = {};
  for (const threadId of ["append", "chat", "workflow", "waiting"]) {
    const tuples: unknown[] = [];
    for await (const tuple of saver.list({ configurable: { thread_id: threadId } }))
      tuples.push(normalized(tuple));
    threads[threadId] = tuples;
  }
  return threads;
}

describe("leangraph verify", () => {
  it("passes an intact store", async () => {
    const run = await leangraph("verify", lean, "--json");
    expect(run.code).toBe(ExitCode.ok);
    expect(run.json).toMatchObject({
      ok: true,
      threads: 4,
      blobs: stockContents.appendSteps,
      damage: [],
    });
  });

  it("exits 1 and names every damaged blob, item and checkpoint, not just the first", async () => {
    const path = leanCopy();
    const [blobId] = await blobIds(path);
    const blobFile = join(`${path}.blobs`, blobId!.slice(0, 2), blobId!.slice(2));
    const bytes = readFileSync(blobFile);
    bytes[10] = bytes[10]! ^ 1;
    writeFileSync(blobFile, bytes);
    // Two more kinds of damage in the database: an item row deleted, an item body altered.
    const db = new Database(path);
    const items = db
      .prepare(
        "SELECT lower(hex(id)) AS id FROM lg_items WHERE in_blob_store = 0 AND kind = 'value' ORDER BY id",
      )
      .all() as { id: string }[];
    const [missing, altered] = [items[0]!.id, items[1]!.id];
    db.prepare("DELETE FROM lg_items WHERE id = unhex(?)").run(missing);
    db.prepare("UPDATE lg_items SET body = CAST('{}' AS BLOB) WHERE id = unhex(?)").run(altered);
    db.close();

    const run = await leangraph("verify", path, "--json");
    expect(run.code).toBe(ExitCode.failed);
    const damage = run.json.damage as Record<string, string>[];
    // Each damaged row-held piece is named once, with the first row that reaches it (the
    // reference pass reads rows only; blob bytes are checked by the blob store pass below).
    const references = damage.filter((entry) => entry.kind === "reference");
    expect(references).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: missing, code: "ERR_LG_CHECKPOINT_ITEM_MISSING" }),
        expect.objectContaining({ id: altered, code: "ERR_LG_CHECKPOINT_ITEM_CORRUPT" }),
      ]),
    );
    expect(references).toHaveLength(2);
    for (const entry of references) {
      expect(entry).toMatchObject({
        threadId: expect.any(String),
        checkpointId: expect.any(String),
        reference: expect.stringMatching(/^(channel|write) /),
      });
    }
    // The blob store pass names the corrupt blob; every checkpoint that reaches damage is named.
    expect(damage).toContainEqual(
      expect.objectContaining({ kind: "blob", blobId, code: "ERR_LG_BLOB_CORRUPT" }),
    );
    const checkpoints = damage.filter((entry) => entry.kind === "checkpoint");
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const entry of checkpoints) {
      expect(entry).toMatchObject({
        threadId: expect.any(String),
        checkpointId: expect.any(String),
      });
      expect(entry.code).toMatch(
        /^ERR_LG_(BLOB_CORRUPT|CHECKPOINT_ITEM_MISSING|CHECKPOINT_ITEM_CORRUPT)$/,
      );
    }
    expect(run.json).toMatchObject({
      damagedReferences: 2,
      damagedBlobs: 1,
      damagedCheckpoints: checkpoints.length,
    });
    const text = await leangraph("verify", path);
    expect(text.stdout).toContain(`DAMAGED blob ${blobId}`);
    expect(text.stdout).toContain(missing);
  });

  it("refuses a stock database, naming what it is", async () => {
    const run = await leangraph("verify", stock, "--json");
    expect(run.code).toBe(ExitCode.usage);
    expect(run.json.error.code).toBe(CliErrorCode.wrongDatabaseKind);
    expect(run.json.error.hint).toContain("leangraph import");
  });
});

describe("leangraph prune", () => {
  async function checkpointsPerThread(path: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const saver = openLeanSqlite(path);
    for await (const tuple of saver.list({ configurable: {} })) {
      const threadId = tuple.config.configurable?.thread_id as string;
      counts.set(threadId, (counts.get(threadId) ?? 0) + 1);
    }
    await saver.close();
    return counts;
  }

  async function checkpointsPerNamespace(path: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const saver = openLeanSqlite(path);
    for await (const tuple of saver.list({ configurable: {} })) {
      const { thread_id, checkpoint_ns } = tuple.config.configurable ?? {};
      const key = `${thread_id}/${checkpoint_ns}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    await saver.close();
    return counts;
  }

  it("--dry-run counts exactly what the real prune then deletes, and deletes nothing", async () => {
    const path = leanCopy();
    const before = await checkpointsPerNamespace(path);
    const expected = [...before.values()].reduce((sum, count) => sum + Math.max(0, count - 2), 0);
    expect(expected).toBeGreaterThan(0);
    const dry = await leangraph("prune", path, "--keep-last", "2", "--dry-run", "--json");
    expect(dry.code).toBe(ExitCode.ok);
    expect(dry.json).toMatchObject({ dryRun: true, threads: 4, deletedCheckpoints: expected });
    expect(await checkpointsPerNamespace(path)).toEqual(before);
    const real = await leangraph("prune", path, "--keep-last", "2", "--json");
    expect(real.json).toMatchObject({ dryRun: false, deletedCheckpoints: expected });
    for (const count of (await checkpointsPerNamespace(path)).values())
      expect(count).toBeLessThanOrEqual(2);
  });

  it("--keep-last N on one thread keeps its newest N, identical to the stock saver's, and nothing else changes", async () => {
    const path = leanCopy();
    const before = await checkpointsPerThread(path);
    const run = await leangraph("prune", path, "--keep-last", "2", "--thread", "append", "--json");
    expect(run.code).toBe(ExitCode.ok);
    expect(run.json.deletedCheckpoints).toBe(before.get("append")! - 2);
    const after = await checkpointsPerThread(path);
    expect(after.get("append")).toBe(2);
    for (const threadId of ["chat", "workflow", "waiting"])
      expect(after.get(threadId)).toBe(before.get(threadId));
    // The kept checkpoints read back as the stock saver reads the same checkpoints of the same run.
    const saver = openLeanSqlite(path);
    const stockSaver = new SqliteSaver(new Database(stock, { readonly: true }));
    try {
      const kept = (await saver.getTuple({ configurable: { thread_id: "append" } }))!;
      const files = kept.checkpoint.channel_values.files as string[];
      const stockLatest = (await stockSaver.getTuple({ configurable: { thread_id: "append" } }))!;
      expect(normalized(files)).toEqual(normalized(stockLatest.checkpoint.channel_values.files));
    } finally {
      await saver.close();
      (stockSaver.db as Database.Database).close();
    }
    expect((await leangraph("verify", path)).code).toBe(ExitCode.ok);
  });

  it("--older-than spares young checkpoints; with an age every checkpoint exceeds, keeps the newest of each namespace", async () => {
    const path = leanCopy();
    const before = await checkpointsPerThread(path);
    const young = await leangraph("prune", path, "--older-than", "1h", "--json");
    expect(young.json.deletedCheckpoints).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const old = await leangraph("prune", path, "--older-than", "10ms", "--json");
    expect(old.code).toBe(ExitCode.ok);
    const after = await checkpointsPerThread(path);
    // One checkpoint per namespace is left: the subgraph's namespace keeps one in "workflow".
    expect(after).toEqual(
      new Map([
        ["append", 1],
        ["chat", 1],
        ["workflow", 2],
        ["waiting", 1],
      ]),
    );
    const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
    expect(old.json.deletedCheckpoints).toBe(total(before) - total(after));
  });

  it("refuses a thread id that is not stored before deleting anything", async () => {
    const path = leanCopy();
    const before = await checkpointsPerThread(path);
    const run = await leangraph(
      "prune",
      path,
      "--keep-last",
      "1",
      "--thread",
      "chat",
      "--thread",
      "nope",
      "--json",
    );
    expect(run.code).toBe(ExitCode.usage);
    expect(run.json.error.code).toBe(CliErrorCode.invalidOption);
    expect(run.json.error.message).toContain('"nope"');
    expect(await checkpointsPerThread(path)).toEqual(before);
  });
});

describe("leangraph gc", () => {
  it("keeps an orphan blob within the grace period, deletes it past it, and dry runs delete nothing", async () => {
    const path = leanCopy();
    const store = createFsBlobStore({ dir: `${path}.blobs` });
    const orphan = await store.put(Buffer.from("a blob a crashed put left behind"));
    const dry = await leangraph("gc", path, "--grace", "0s", "--dry-run", "--json");
    expect(dry.json).toMatchObject({ dryRun: true, deletedBlobs: 1 });
    expect(await store.has(orphan)).toBe(true);
    const young = await leangraph("gc", path, "--grace", "1h", "--json");
    expect(young.json).toMatchObject({ dryRun: false, deletedBlobs: 0 });
    expect(await store.has(orphan)).toBe(true);
    const past = await leangraph("gc", path, "--grace", "0s", "--json");
    expect(past.code).toBe(ExitCode.ok);
    expect(past.json.deletedBlobs).toBe(1);
    expect(await store.has(orphan)).toBe(false);
    expect((await blobIds(path)).length).toBe(stockContents.appendSteps);
    expect((await leangraph("verify", path)).code).toBe(ExitCode.ok);
  });
});

describe("bad usage", () => {
  it.each([
    [["inspect", "no-such-file.sqlite"], CliErrorCode.databaseNotFound],
    [["stats", "no-such-file.sqlite"], CliErrorCode.databaseNotFound],
    [["gc", "no-such-file.sqlite"], CliErrorCode.databaseNotFound],
    [["inspect", "package.json"], CliErrorCode.invalidOption],
    [["prune", "x.sqlite", "--older-than", "30"], CliErrorCode.invalidOption],
    [["inspect", "x.sqlite", "--frobnicate"], CliErrorCode.usage],
    [["launch"], CliErrorCode.usage],
  ])("%j exits 2 with %s on stderr and in the --json error", async (args, code) => {
    const run = await leangraph(...args, "--json");
    expect(run.code).toBe(ExitCode.usage);
    expect(run.json).toMatchObject({ status: "error", error: { code } });
    expect(run.stderr).toContain(code);
  });

  it("never creates the database it was asked about", async () => {
    const missing = join(temp.dir, "typo.sqlite");
    await leangraph("verify", missing);
    await leangraph("inspect", missing);
    expect(existsSync(missing)).toBe(false);
  });

  it("refuses to import from a lean database or into a stock one", async () => {
    const fromLean = await leangraph(
      "import",
      "--from",
      lean,
      "--to",
      join(temp.dir, "x.sqlite"),
      "--json",
    );
    expect(fromLean.json.error.code).toBe(CliErrorCode.wrongDatabaseKind);
    const otherStock = join(temp.dir, "other-stock.sqlite");
    cpSync(stock, otherStock);
    const intoStock = await leangraph("import", "--from", stock, "--to", otherStock, "--json");
    expect(intoStock.code).toBe(ExitCode.usage);
    expect(intoStock.json.error.code).toBe(CliErrorCode.wrongDatabaseKind);
  });
});
