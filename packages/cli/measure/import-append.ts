/**
 * pnpm --filter @leangraph/cli measure
 *
 * The figures issue 12 asks of `leangraph import` and `leangraph inspect`, on the append workload
 * (a real StateGraph appending one unique 200 KB file per step to an array channel):
 * for stock SqliteSaver and stock PostgresSaver databases of several sizes, import each into a
 * lean saver with the built CLI (as a user runs it) and report source and destination bytes
 * against the unique payload, peak RSS of the import process, throughput in MB of source per
 * second, and whether every thread reads back identical (the CLI's own getTuple/list comparison
 * plus a digest of the files read through a lean saver here). At the largest size the import is
 * SIGKILLed halfway and rerun. `inspect` runs on each stock database.
 *
 * MEASURE_SIZES   threads x steps, comma separated   (default "1x50,4x50,1x100": 4x50 is as big as 1x100
 *                  with the largest checkpoint of 1x50)
 * MEASURE_BACKENDS sqlite,postgres                  (default both; postgres needs LG_POSTGRES_URL or localhost)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { diskUsage } from "@leangraph/checkpointer/inspect";
import { createPostgresBlobStore, LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { createFsBlobStore, RedactingSerializer } from "@leangraph/serde";
import Database from "better-sqlite3";
import pg from "pg";
import { digestFiles, expectedDigest } from "../../checkpointer/test/fixtures/append-workload.js";
import type { ImportReport } from "../src/commands/import.js";
import type { InspectReport } from "../src/commands/inspect-report.js";

const fileBytes = 200_000;
const postgresUrl = process.env.LG_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const sizes = (process.env.MEASURE_SIZES ?? "1x50,4x50,1x100").split(",").map((size) => {
  const [threads, steps] = size.split("x").map(Number) as [number, number];
  return { threads, steps, label: size };
});
const backends = (process.env.MEASURE_BACKENDS ?? "sqlite,postgres").split(",") as (
  | "sqlite"
  | "postgres"
)[];
const cliPath = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const builderPath = fileURLToPath(new URL("./build-stock.ts", import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), "lg-cli-measure-"));
const pool = new pg.Pool({ connectionString: postgresUrl });
const schemas: string[] = [];

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  ms: number;
}

function run(command: string, args: string[], onTick?: () => Promise<boolean>) {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout, ms: performance.now() - started }),
    );
  });
  if (onTick !== undefined) {
    let ended = false;
    void done.then(() => {
      ended = true;
    });
    void (async () => {
      while (!ended) {
        if (await onTick()) {
          child.kill("SIGKILL");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
  }
  return done;
}

const leangraph = (args: string[], onTick?: () => Promise<boolean>, nodeArgs: string[] = []) =>
  run(process.execPath, [...nodeArgs, cliPath, ...args], onTick);
/**
 * V8 grows its heap lazily: with Node's defaults the import's RSS mostly shows garbage not yet
 * collected. Run once more with the old generation capped, to show how much memory it needs.
 */
const cappedHeapMb = Number(process.env.MEASURE_HEAP_CAP_MB ?? 128);

interface Target {
  backend: "sqlite" | "postgres";
  args: string[];
  schema?: string;
  path?: string;
}

function stockTarget(backend: "sqlite" | "postgres", name: string): Target {
  if (backend === "sqlite") {
    const path = join(workDir, `${name}.sqlite`);
    return { backend, args: [path], path };
  }
  const schema = `lg_measure_${name}_${process.pid}`;
  schemas.push(schema);
  return { backend, args: [postgresUrl], schema };
}

const fromArgs = (target: Target) => [
  "--from",
  ...target.args,
  ...(target.schema ? ["--from-schema", target.schema] : []),
];
const toArgs = (target: Target) => [
  "--to",
  ...target.args,
  ...(target.schema ? ["--to-schema", target.schema] : []),
];

async function checkpointsIn(target: Target): Promise<number> {
  try {
    if (target.backend === "sqlite") {
      const db = new Database(target.path!, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM lg_checkpoints").get() as { n: number }).n;
      } finally {
        db.close();
      }
    }
    const { rows } = await pool.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM "${target.schema}".lg_checkpoints`,
    );
    return Number(rows[0]!.n);
  } catch {
    return 0; // not created yet
  }
}

/** Bytes on disk the way the checkpointer bench counts them. */
async function bytesOf(target: Target, lean: boolean): Promise<number> {
  if (target.backend === "sqlite") {
    const paths = [target.path!, `${target.path}-wal`, `${target.path}-shm`];
    if (lean) paths.push(`${target.path}.blobs`);
    return (await diskUsage(paths)).apparentBytes;
  }
  const { rows } = await pool.query<{ n: string }>(
    `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class AS c
     JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [target.schema],
  );
  return Number(rows[0]!.n);
}

function openLean(target: Target): LeanCheckpointSaver {
  if (target.backend === "sqlite") {
    const blobStore = createFsBlobStore({ dir: `${target.path}.blobs` });
    return new LeanSqliteSaver(new Database(target.path!), {
      blobStore,
      serde: new RedactingSerializer({ blobStore }),
    });
  }
  const blobStore = createPostgresBlobStore({ pool, schema: target.schema! });
  return new LeanPostgresSaver(pool, {
    schema: target.schema!,
    blobStore,
    serde: new RedactingSerializer({ blobStore }),
  });
}

/** Every thread's newest state read through a lean saver: the files, byte for byte. */
async function identicalFiles(target: Target, threads: number, steps: number): Promise<boolean> {
  const saver = openLean(target);
  try {
    for (let thread = 0; thread < threads; thread += 1) {
      const tuple = await saver.getTuple({ configurable: { thread_id: `append-${thread}` } });
      const files = tuple?.checkpoint.channel_values.files as string[] | undefined;
      if (!files || digestFiles(files) !== expectedDigest(steps, fileBytes)) return false;
    }
    return true;
  } finally {
    if (target.backend === "sqlite") await saver.close();
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const rows: string[][] = [];
const killRows: string[][] = [];
const inspectRows: string[][] = [];

try {
  for (const backend of backends) {
    for (const size of sizes) {
      const name = `${backend === "sqlite" ? "s" : "p"}${size.threads}x${size.steps}`;
      const stock = stockTarget(backend, `stock_${name}`);
      const buildArgs =
        backend === "sqlite"
          ? [stock.path!, String(size.threads), String(size.steps), String(fileBytes)]
          : [
              postgresUrl,
              stock.schema!,
              String(size.threads),
              String(size.steps),
              String(fileBytes),
            ];
      console.error(`[measure] building stock ${backend} ${size.label} …`);
      const built = await run(process.execPath, [
        "--import",
        "tsx",
        builderPath,
        backend,
        ...buildArgs,
      ]);
      if (built.code !== 0) throw new Error(`building ${name} failed (${built.code})`);

      const inspect = await leangraph([
        "inspect",
        ...stock.args,
        ...(stock.schema ? ["--schema", stock.schema] : []),
        "--json",
        "--top",
        "3",
      ]);
      const inspectReport = JSON.parse(inspect.stdout) as InspectReport;
      inspectRows.push([
        backend,
        size.label,
        `${mb(inspectReport.totals.databaseBytes)} MB`,
        `${(inspect.ms / 1000).toFixed(1)} s`,
        `${mb(inspectReport.peakRssBytes)} MB`,
        `\`${inspectReport.channels[0]?.channel}\` ${mb(inspectReport.channels[0]?.totalBytes ?? 0)} MB`,
        inspectReport.largestValues.map((value) => `${value.path} ×${value.copies}`).join(", "),
      ]);

      const lean = stockTarget(backend, `lean_${name}`);
      const imported = await leangraph(["import", ...fromArgs(stock), ...toArgs(lean), "--json"]);
      if (imported.code !== 0)
        throw new Error(`import ${name} exited ${imported.code}: ${imported.stdout}`);
      const report = JSON.parse(imported.stdout) as ImportReport;
      const capped = stockTarget(backend, `capped_${name}`);
      const cappedRun = await leangraph(
        ["import", ...fromArgs(stock), ...toArgs(capped), "--json"],
        undefined,
        [`--max-old-space-size=${cappedHeapMb}`],
      );
      const cappedReport =
        cappedRun.code === 0 ? (JSON.parse(cappedRun.stdout) as ImportReport) : undefined;
      const unique = size.steps * fileBytes; // every thread appends the same generated files
      const destinationBytes = await bytesOf(lean, true);
      const identical =
        report.status === "done" && (await identicalFiles(lean, size.threads, size.steps));
      rows.push([
        backend,
        size.label,
        `${mb(report.sourceBytes)} MB`,
        `${mb(destinationBytes)} MB (${(destinationBytes / unique).toFixed(3)}x unique)`,
        `${report.checkpoints}`,
        `${(report.importMs / 1000).toFixed(1)} s`,
        `${report.sourceMbPerSecond.toFixed(1)} MB/s`,
        `${(report.verifyMs / 1000).toFixed(1)} s`,
        `${mb(report.peakRssBytes)} MB`,
        cappedReport?.status === "done"
          ? `${mb(cappedReport.peakRssBytes)} MB`
          : `failed (exit ${cappedRun.code})`,
        identical ? `yes (${report.verifiedCheckpoints} checkpoints)` : "NO",
      ]);
      console.error(`[measure] ${backend} ${size.label}: ${rows.at(-1)!.join(" | ")}`);

      // Killed halfway: at the most steps (the largest checkpoints), the issue's 1 GB database.
      if (size === sizes.reduce((a, b) => (b.steps > a.steps ? b : a))) {
        const killed = stockTarget(backend, `killed_${name}`);
        const half = Math.floor(report.checkpoints / 2);
        const first = await leangraph(
          ["import", ...fromArgs(stock), ...toArgs(killed), "--json"],
          async () => (await checkpointsIn(killed)) >= half,
        );
        const storedAtKill = await checkpointsIn(killed);
        const second = await leangraph(["import", ...fromArgs(stock), ...toArgs(killed), "--json"]);
        const resumed = JSON.parse(second.stdout) as ImportReport;
        const killedBytes = await bytesOf(killed, true);
        const same =
          resumed.status === "done" &&
          resumed.verifiedCheckpoints === report.verifiedCheckpoints &&
          (await identicalFiles(killed, size.threads, size.steps));
        killRows.push([
          backend,
          size.label,
          `${first.signal ?? `exit ${first.code}`} at ${storedAtKill}/${report.checkpoints} checkpoints`,
          `${resumed.alreadyPresent} already there, ${resumed.imported} imported`,
          `${mb(killedBytes)} MB vs ${mb(destinationBytes)} MB uninterrupted`,
          same ? "yes" : "NO",
        ]);
      }
      if (backend === "sqlite") {
        for (const suffix of ["", "-wal", "-shm"])
          rmSync(`${stock.path}${suffix}`, { force: true });
      } else await pool.query(`DROP SCHEMA IF EXISTS "${stock.schema}" CASCADE`);
    }
  }
} finally {
  for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
  rmSync(workDir, { recursive: true, force: true });
}

const table = (header: string[], body: string[][]) =>
  [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...body.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
console.log(
  `\nleangraph import (append workload, ${fileBytes / 1000} KB per step; sizes are threads x steps)\n`,
);
console.log(
  table(
    [
      "source",
      "size",
      "source bytes",
      "destination bytes",
      "checkpoints",
      "import",
      "throughput",
      "verify",
      "peak RSS",
      `peak RSS, heap capped at ${cappedHeapMb} MB`,
      "identical",
    ],
    rows,
  ),
);
console.log("\nKilled (SIGKILL) halfway, then rerun\n");
console.log(
  table(["source", "size", "first run", "rerun", "destination", "same result"], killRows),
);
console.log("\nleangraph inspect on the stock databases\n");
console.log(
  table(
    ["source", "size", "database", "time", "peak RSS", "biggest channel", "largest values"],
    inspectRows,
  ),
);
