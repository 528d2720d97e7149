import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { createPostgresBlobStore, LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import {
  type CompressionSetting,
  createCompressionLayer,
  createFsBlobStore,
  RedactingSerializer,
} from "@leangraph/serde";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAppendWorkload } from "../../checkpointer/test/fixtures/append-workload.js";
import type { ImportReport } from "../src/commands/import.js";
import { ExitCode } from "../src/exit-codes.js";
import { openStockPostgresSource } from "../src/stock/stock-postgres-source.js";
import { configOf } from "../src/stock/stock-source.js";
import { firstDifference } from "../src/values/first-difference.js";
import { expectSameThreads, normalized } from "./fixtures/compare-savers.js";
import {
  buildManyThreadsPostgres,
  buildStockPostgres,
  manyThreadIds,
  stockContents,
} from "./fixtures/stock-databases.js";
import { jsonOf, makeTempDir, runLeangraph, runStoppedWhen } from "./helpers.js";

const unavailable = await postgresOrSkip("the Postgres-backed CLI tests");

/** Every row of the stock tables, as one digest: proof that reading them changed nothing. */
async function stockDigest(pool: pg.Pool, schema: string): Promise<string> {
  const tables = {
    checkpoints: "thread_id, checkpoint_ns, checkpoint_id",
    checkpoint_blobs: "thread_id, checkpoint_ns, channel, version",
    checkpoint_writes: "thread_id, checkpoint_ns, checkpoint_id, task_id, idx",
    checkpoint_migrations: "v",
  };
  const digests: string[] = [];
  for (const [table, order] of Object.entries(tables)) {
    const { rows } = await pool.query<{ digest: string }>(
      `SELECT md5(COALESCE(string_agg(t::text, '|' ORDER BY ${order}), '')) AS digest FROM "${schema}".${table} AS t`,
    );
    digests.push(rows[0]!.digest);
  }
  return digests.join(",");
}

function leanSaver(
  pool: pg.Pool,
  schema: string,
  blobDir?: string,
  compression?: CompressionSetting,
) {
  const layers = [createCompressionLayer(compression ?? "auto")];
  const blobStore =
    blobDir === undefined
      ? createPostgresBlobStore({ pool, schema, layers })
      : createFsBlobStore({ dir: blobDir, layers });
  return new LeanPostgresSaver(pool, {
    schema,
    blobStore,
    serde: new RedactingSerializer({ blobStore }),
    compression,
  });
}

describe.skipIf(unavailable !== undefined)("leangraph on Postgres", () => {
  const pool = new pg.Pool({ connectionString: postgresUrl });
  const stock = uniqueSchema("cli_stock");
  const schemas = [stock];
  const temp = makeTempDir("pg");
  let digestBefore: string;

  beforeAll(async () => {
    await buildStockPostgres(postgresUrl, stock);
    digestBefore = await stockDigest(pool, stock);
  });
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema, pool);
    await pool.end();
    temp.remove();
  });

  it("compact compresses a lean store written uncompressed; values, verify and a rerun agree", async () => {
    const schema = uniqueSchema("cli_compact");
    schemas.push(schema);
    const writer = leanSaver(pool, schema, undefined, "off");
    await runAppendWorkload(writer, { steps: 3, fileBytes: 8_000, threadId: "small" });
    await runAppendWorkload(writer, { steps: 2, fileBytes: 100_000, threadId: "big" });
    const before = await writer.storageStats();
    const listed = async (saver: LeanPostgresSaver) => {
      const tuples: unknown[] = [];
      for (const threadId of ["small", "big"])
        for await (const tuple of saver.list({ configurable: { thread_id: threadId } }))
          tuples.push(normalized(tuple));
      return tuples;
    };
    const tuplesBefore = await listed(writer);

    const run = await runLeangraph(["compact", postgresUrl, "--schema", schema, "--json"]);
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    const report = jsonOf(run);
    expect(report.items.rewritten).toBeGreaterThan(0);
    expect(report.blobs.rewritten).toBeGreaterThanOrEqual(2);
    const again = jsonOf(
      await runLeangraph(["compact", postgresUrl, "--schema", schema, "--json"]),
    );
    expect(again).toMatchObject({ items: { rewritten: 0 }, blobs: { rewritten: 0 } });
    const verify = await runLeangraph(["verify", postgresUrl, "--schema", schema, "--json"]);
    expect(jsonOf(verify)).toMatchObject({ ok: true, damage: [] });

    const reader = leanSaver(pool, schema, undefined, "off");
    expect(await listed(reader)).toEqual(tuplesBefore);
    expect((await reader.storageStats()).blobBytes).toBeLessThan(before.blobBytes);
  });

  it("inspect names the channel and the values that make a stock PostgresSaver database big", async () => {
    const run = await runLeangraph(["inspect", postgresUrl, "--schema", stock, "--json"]);
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    const report = jsonOf(run);
    expect(report).toMatchObject({ kind: "stock", backend: "postgres", channelBytesAre: "stored" });
    expect(report.channels[0].channel).toBe("files");
    expect(report.largestValues[0]).toMatchObject({ path: "files[0]", channel: "files" });
    expect(report.largestValues[0].copies).toBeGreaterThan(1);
    expect(report.threads[0].threadId).toBe("append");
  });

  it("reads every stock checkpoint exactly as PostgresSaver.getTuple does, blobs row by row", async () => {
    const source = await openStockPostgresSource(postgresUrl, stock);
    try {
      let compared = 0;
      for await (const key of source.keys()) {
        const ours = await source.getTuple(key);
        const theirs = await source.saver.getTuple(configOf(key));
        expect(firstDifference(theirs, ours)).toBeUndefined();
        expect(normalized(ours)).toEqual(normalized(theirs));
        compared += 1;
      }
      expect(compared).toBe((await source.totals()).checkpoints);
    } finally {
      await source.close();
    }
  });

  it.each([
    ["blobs in Postgres", [] as string[]],
    ["blobs in a directory", ["--blob-store", "fs", "--blob-dir"]],
  ])(
    "import into a lean store (%s) reads back equal, and the source is untouched",
    async (_label, blobArgs) => {
      const lean = uniqueSchema("cli_lean");
      schemas.push(lean);
      const blobDir = blobArgs.length > 0 ? `${temp.dir}/${lean}` : undefined;
      const run = await runLeangraph([
        "import",
        "--from",
        postgresUrl,
        "--from-schema",
        stock,
        "--to",
        postgresUrl,
        "--to-schema",
        lean,
        ...blobArgs,
        ...(blobDir === undefined ? [] : [blobDir]),
        "--json",
      ]);
      expect(run.code, run.stderr).toBe(ExitCode.ok);
      const report = jsonOf<ImportReport>(run);
      expect(report).toMatchObject({
        status: "done",
        mismatches: [],
        verifiedThreads: stockContents.threads.length,
      });
      expect(report.destinationBytes).toBeLessThan(report.sourceBytes);

      const stockSaver = new PostgresSaver(pool, undefined, { schema: stock });
      const saver = leanSaver(pool, lean, blobDir);
      expect(await expectSameThreads(stockSaver, saver, stockContents.threads)).toBe(
        report.checkpoints,
      );
      expect(await stockDigest(pool, stock)).toBe(digestBefore);

      const verify = await runLeangraph([
        "verify",
        postgresUrl,
        "--schema",
        lean,
        ...blobArgs,
        ...(blobDir === undefined ? [] : [blobDir]),
        "--json",
      ]);
      expect(verify.code, verify.stderr).toBe(ExitCode.ok);
      expect(jsonOf(verify)).toMatchObject({ ok: true, threads: stockContents.threads.length });
    },
  );

  it("one schema may hold both kinds: import in place, then --kind picks which one to read", async () => {
    const shared = uniqueSchema("cli_shared");
    schemas.push(shared);
    await buildStockPostgres(postgresUrl, shared);
    const run = await runLeangraph([
      "import",
      "--from",
      postgresUrl,
      "--from-schema",
      shared,
      "--to",
      postgresUrl,
      "--to-schema",
      shared,
    ]);
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    const asLean = jsonOf(await runLeangraph(["stats", postgresUrl, "--schema", shared, "--json"]));
    const asStock = jsonOf(
      await runLeangraph(["stats", postgresUrl, "--schema", shared, "--kind", "stock", "--json"]),
    );
    expect(asLean.kind).toBe("lean");
    expect(asStock.kind).toBe("stock");
    expect(asLean.checkpoints).toBe(asStock.checkpoints);
  });

  it("after SIGKILL, a rerun continues and ends with every thread equal to the source", async () => {
    const source = uniqueSchema("cli_many");
    const lean = uniqueSchema("cli_killed");
    schemas.push(source, lean);
    const threads = 16;
    await buildManyThreadsPostgres(postgresUrl, source, threads, 5);
    const args = [
      "import",
      "--from",
      postgresUrl,
      "--from-schema",
      source,
      "--to",
      postgresUrl,
      "--to-schema",
      lean,
      "--json",
    ];
    const count = async () => {
      try {
        const { rows } = await pool.query<{ n: string }>(
          `SELECT COUNT(*) AS n FROM "${lean}".lg_checkpoints`,
        );
        return Number(rows[0]!.n);
      } catch {
        return 0; // not created yet
      }
    };
    const first = await runStoppedWhen(args, "SIGKILL", async () => (await count()) >= 20);
    expect(first.sent).toBe(true);
    expect(first.run.signal).toBe("SIGKILL");
    const total = threads * 7;
    const storedAtKill = await count();
    expect(storedAtKill).toBeLessThan(total);

    const second = await runLeangraph(args);
    expect(second.code, second.stderr).toBe(ExitCode.ok);
    const report = jsonOf<ImportReport>(second);
    // Checkpoints are imported one after another, each with its writes: a kill leaves at most one
    // stored without all of its writes, which the rerun puts again.
    expect(report.alreadyPresent).toBeGreaterThanOrEqual(storedAtKill - 1);
    expect(report.alreadyPresent).toBeLessThanOrEqual(storedAtKill);
    expect(report.alreadyPresent + report.imported).toBe(total);
    expect(report.verifiedThreads).toBe(threads);
    const stockSaver = new PostgresSaver(pool, undefined, { schema: source });
    expect(await expectSameThreads(stockSaver, leanSaver(pool, lean), manyThreadIds(threads))).toBe(
      total,
    );
  });
});
