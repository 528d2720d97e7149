/**
 * pnpm --filter @leangraph/checkpointer bench
 *
 * 1. The issue's workload (a real StateGraph appending one unique 200 KB file per step to an array
 *    channel), each saver in a fresh process so peak RSS is its own: bytes on disk, invoke time,
 *    getState time, peak RSS, largest checkpoint row. Stock savers at BENCH_STEPS (default 100;
 *    they grow quadratically), lean savers also at BENCH_LONG_STEPS (default 1000).
 * 2. The edit loop (issue 13): a dict of 20 files of ~290 KB, BENCH_EDIT_STEPS (default 200)
 *    edits of 1% of one file; stock SqliteSaver and every lean configuration, a process each.
 * 3. put / getTuple latency on a small chat-like state, all savers interleaved round-robin in one
 *    process so machine noise hits them alike.
 * 4. list() with a metadata filter on one thread of BENCH_LIST_CHECKPOINTS checkpoints (default
 *    10,000), every saver in this process, filters interleaved.
 * 5. Pruning a DeltaChannel chat of BENCH_RETENTION_TURNS turns (default 1000) to keepLast 10:
 *    retained history against keeping ancestors back to the last snapshot.
 * 6. Compression on vs off (issue 18), then encryption on vs off (issue 19, both arms compressed):
 *    each lean saver against itself with the layer switched off, interleaved in this process:
 *    chat put / getTuple, append-workload getState (BENCH_LAYER_STEPS of 200 KB, default 30) and
 *    bytes on disk (bench/layer-on-off.ts); BENCH_COMPRESSION sets the on arm's LG_COMPRESSION
 *    (default auto), and the floor line decompresses the same bodies alone.
 * 7. Text in state (issue 18): bytes on disk for the demo's naive state and for real code files
 *    in a Record<path, text> (BENCH_TEXT_FILES, default 200), lean with compression off and on, beside gzip -6 per file and stock SqliteSaver, and the
 *    append workload at BENCH_STEPS; a process each (bench/text-in-state.ts).
 * BENCH_SECTIONS=workload,edit,latency,list,retention,compression,encryption,text picks sections. BENCH_BASELINE=<checkout>
 * (an earlier commit, installed and built) adds its lean savers to section 3, interleaved with
 * this checkout's: "no slower than before" measured in one run.
 * Medians over BENCH_REPEATS runs (default 3) / BENCH_LATENCY_ITERATIONS iterations (default 300);
 * ratios are lean / stock on the same backend, measured in this same run.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { postgresUnavailableReason } from "@leangraph/test-postgres";
import { fillThread, timeFilteredList } from "./filtered-list.js";
import { ChatLatencyRun, median, percentile } from "./latency.js";
import {
  compressionArms,
  compressionSetting,
  decompressionAloneMs,
  encryptionArms,
  layerHeader,
  layerRows,
} from "./layer-on-off.js";
import {
  type BenchSaver,
  type CheckpointerFactory,
  openBenchSaver,
  type SaverKind,
  saverKinds,
} from "./saver-kinds.js";
import {
  gzipPerFileBytes,
  runTextInState,
  type TextConfiguration,
  textShapes,
} from "./text-in-state.js";

const fileBytes = 200_000;
const steps = Number(process.env.BENCH_STEPS ?? 100);
const longSteps = Number(process.env.BENCH_LONG_STEPS ?? 1000);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const latencyIterations = Number(process.env.BENCH_LATENCY_ITERATIONS ?? 300);
const listCheckpoints = Number(process.env.BENCH_LIST_CHECKPOINTS ?? 10_000);
const editSteps = Number(process.env.BENCH_EDIT_STEPS ?? 200);
const retentionTurns = Number(process.env.BENCH_RETENTION_TURNS ?? 1000);
/** BENCH_SECTIONS=workload,edit,latency,list,retention,compression,encryption,text (default: all) runs only some sections. */
const sections = new Set(
  (
    process.env.BENCH_SECTIONS ?? "workload,edit,latency,list,retention,compression,encryption,text"
  ).split(","),
);
const editScript = fileURLToPath(new URL("./edit-run.ts", import.meta.url));
const workerScript = fileURLToPath(new URL("./workload-run.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), "lg-bench-"));

interface WorkloadResult {
  kind: SaverKind;
  steps: number;
  invokeMs: number;
  getStateMs: number;
  bytesOnDisk: number;
  largestCheckpointRowBytes: number;
  peakRssBytes: number;
  identical: boolean;
}

async function postgresReachable(): Promise<boolean> {
  const unavailable = await postgresUnavailableReason();
  if (unavailable !== undefined) console.warn(`[bench] ${unavailable}; Postgres rows skipped.`);
  return unavailable === undefined;
}

async function runWorkload(kind: SaverKind, runSteps: number): Promise<WorkloadResult> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", workerScript, kind, String(runSteps), String(fileBytes), workDir],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${kind} workload run exited with ${code}`);
  return JSON.parse(stdout.trim().split("\n").pop()!) as WorkloadResult;
}

interface EditResult {
  kind: SaverKind;
  steps: number;
  changedBytes: number;
  invokeMs: number;
  getStateMs: number;
  bytesOnDisk: number;
  peakRssBytes: number;
  identical: boolean;
}

async function runEdit(kind: SaverKind, runSteps: number): Promise<EditResult> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", editScript, kind, String(runSteps), workDir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${kind} edit run exited with ${code}`);
  return JSON.parse(stdout.trim().split("\n").pop()!) as EditResult;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const baselineSuffix = " @baseline";
/** The lean savers compared with BENCH_BASELINE's (the stock ones do not change between commits). */
const leanLatencyKinds: SaverKind[] = ["LeanSqliteSaver", "LeanPostgresSaver"];

/** createCheckpointer from a checkout's built `dist/` (installed and built). */
async function builtFactory(checkout: string, flag: string): Promise<CheckpointerFactory> {
  const entry = join(checkout, "packages", "checkpointer", "dist", "index.js");
  const loaded = (await import(pathToFileURL(entry).href)) as {
    createCheckpointer?: CheckpointerFactory;
  };
  if (typeof loaded.createCheckpointer !== "function")
    throw new Error(`${flag}: ${entry} exports no createCheckpointer`);
  return loaded.createCheckpointer;
}

/** createCheckpointer of the checkout BENCH_BASELINE names, if set. */
async function baselineFactory(): Promise<CheckpointerFactory | undefined> {
  const checkout = process.env.BENCH_BASELINE;
  if (checkout === undefined || checkout === "") return undefined;
  return builtFactory(checkout, `BENCH_BASELINE=${checkout}`);
}

const ratio = (value: number, base: number | undefined) =>
  base ? `${(value / base).toFixed(2)}x` : "";

function printTable(title: string, header: string[], rows: string[][]) {
  console.log(`\n${title}`);
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

const hasPostgres = await postgresReachable();
const kinds = saverKinds.filter((kind) => hasPostgres || !kind.includes("Postgres"));
console.log(
  `[bench] workload: ${steps} steps x ${fileBytes} B (${repeats} runs each), lean also at ${longSteps} steps`,
);

try {
  const workloadRows: string[][] = [];
  const medianOf = new Map<string, WorkloadResult>();
  const workloadRuns = [
    [steps, kinds, repeats],
    [longSteps, kinds.filter((kind) => kind.startsWith("Lean")), 1],
  ] as const;
  for (const [runSteps, runKinds, runRepeats] of sections.has("workload") ? workloadRuns : []) {
    for (const kind of runKinds) {
      const runs: WorkloadResult[] = [];
      for (let run = 0; run < runRepeats; run += 1) runs.push(await runWorkload(kind, runSteps));
      const result: WorkloadResult = {
        ...runs[0]!,
        invokeMs: median(runs.map((r) => r.invokeMs)),
        getStateMs: median(runs.map((r) => r.getStateMs)),
        bytesOnDisk: median(runs.map((r) => r.bytesOnDisk)),
        peakRssBytes: median(runs.map((r) => r.peakRssBytes)),
        identical: runs.every((r) => r.identical),
      };
      medianOf.set(`${kind}@${runSteps}`, result);
      const stock = medianOf.get(`${kind.replace("Lean", "").replace("+fs", "")}@${runSteps}`);
      const unique = runSteps * fileBytes;
      workloadRows.push([
        kind,
        String(runSteps),
        `${mb(result.bytesOnDisk)} MB (${(result.bytesOnDisk / unique).toFixed(3)}x unique)`,
        `${(result.invokeMs / 1000).toFixed(2)} s`,
        `${result.getStateMs.toFixed(0)} ms`,
        `${mb(result.peakRssBytes)} MB`,
        String(result.largestCheckpointRowBytes),
        result.identical ? "yes" : "NO",
        kind.startsWith("Lean") && stock
          ? `disk ${ratio(result.bytesOnDisk, stock.bytesOnDisk)}, invoke ${ratio(result.invokeMs, stock.invokeMs)}, getState ${ratio(result.getStateMs, stock.getStateMs)}, RSS ${ratio(result.peakRssBytes, stock.peakRssBytes)}`
          : "",
      ]);
      console.log(`[bench] ${kind} ${runSteps} steps done`);
    }
  }
  if (sections.has("workload"))
    printTable(
      `Append workload (real StateGraph, one unique ${fileBytes / 1000} KB file per step; medians)`,
      [
        "saver",
        "steps",
        "bytes on disk",
        "invoke",
        "getState",
        "peak RSS",
        "largest row B",
        "state identical",
        "lean / stock",
      ],
      workloadRows,
    );

  // The edit loop: stock SqliteSaver and every lean configuration (the stock Postgres and memory
  // savers grow the same way as SqliteSaver, GBs at 200 steps, and are left out for time).
  const editRows: string[][] = [];
  const editKinds = kinds.filter((kind) => kind === "SqliteSaver" || kind.startsWith("Lean"));
  for (const kind of sections.has("edit") ? editKinds : []) {
    const result = await runEdit(kind, editSteps);
    editRows.push([
      kind,
      `${mb(result.bytesOnDisk)} MB (${(result.bytesOnDisk / result.changedBytes).toFixed(2)}x changed)`,
      `${(result.invokeMs / 1000).toFixed(2)} s`,
      `${result.getStateMs.toFixed(0)} ms`,
      `${mb(result.peakRssBytes)} MB`,
      result.identical ? "yes" : "NO",
    ]);
    console.log(`[bench] ${kind} edit loop done`);
  }
  if (sections.has("edit"))
    printTable(
      `Edit loop (20 files of ~290 KB in a files dict, ${editSteps} edits of 1% of one file; one run each)`,
      ["saver", "bytes on disk", "invoke", "getState", "peak RSS", "state identical"],
      editRows,
    );

  const savers = new Map<string, BenchSaver>();
  const baseline = sections.has("latency") ? await baselineFactory() : undefined;
  // Against a baseline, this checkout's lean savers run from its built dist/ as the baseline's
  // do, so both arms load the same way. Even so, two instances of the same build differ here:
  // this checkout against itself measured Postgres put 1.49x and SQLite put 0.73x (getTuple
  // 0.83-0.99x) on a loaded machine, so a put ratio inside that band says nothing either way.
  const thisCheckout =
    baseline === undefined ? undefined : await builtFactory(repoRoot, "this checkout");
  for (const kind of sections.has("latency") ? kinds : [])
    savers.set(
      kind,
      await openBenchSaver(kind, workDir, kind.startsWith("Lean") ? thisCheckout : undefined),
    );
  for (const kind of baseline === undefined ? [] : leanLatencyKinds)
    savers.set(`${kind}${baselineSuffix}`, await openBenchSaver(kind, workDir, baseline));
  const runs = new Map(
    [...savers].map(([kind, bench]) => [kind, new ChatLatencyRun(bench.saver, 20)] as const),
  );
  // Each iteration starts one saver further along, so every saver takes every place in the
  // round equally often: a fixed order measured the same saver ~1.5x apart by its place alone.
  const order = [...runs.values()];
  for (let iteration = 0; savers.size > 0 && iteration < latencyIterations; iteration += 1) {
    for (let place = 0; place < order.length; place += 1)
      await order[(iteration + place) % order.length]!.step();
  }
  const warm = Math.min(20, Math.floor(latencyIterations / 5));
  const latencyRows: string[][] = [];
  const putMedians = new Map<string, number>();
  const getMedians = new Map<string, number>();
  for (const [kind, run] of runs) {
    const puts = run.putUs.slice(warm);
    const gets = run.getTupleUs.slice(warm);
    putMedians.set(kind, median(puts));
    getMedians.set(kind, median(gets));
    const stockKind = kind.replace("Lean", "").replace("+fs", "").replace(baselineSuffix, "");
    const baselineKind = `${kind}${baselineSuffix}`;
    latencyRows.push([
      kind,
      `${median(puts).toFixed(0)} µs`,
      `${percentile(puts, 0.95).toFixed(0)} µs`,
      `${median(gets).toFixed(0)} µs`,
      `${percentile(gets, 0.95).toFixed(0)} µs`,
      kind.startsWith("Lean")
        ? `put ${ratio(median(puts), putMedians.get(stockKind))}, getTuple ${ratio(median(gets), getMedians.get(stockKind))}`
        : "",
    ]);
    if (runs.has(baselineKind)) {
      const basePuts = runs.get(baselineKind)!.putUs.slice(warm);
      const baseGets = runs.get(baselineKind)!.getTupleUs.slice(warm);
      latencyRows.push([
        `${kind} / baseline`,
        ratio(median(puts), median(basePuts)),
        "",
        ratio(median(gets), median(baseGets)),
        "",
        "",
      ]);
    }
  }
  for (const bench of savers.values()) await bench.dispose();
  if (sections.has("latency"))
    printTable(
      `Chat-like state (20 messages growing to ${20 + latencyIterations}; ${latencyIterations - warm} measured iterations, interleaved)`,
      ["saver", "put median", "put p95", "getTuple median", "getTuple p95", "lean / stock"],
      latencyRows,
    );

  // Each storage layer against itself switched off, same saver, same run (issues 18 and 19).
  const appendSteps = Number(process.env.BENCH_LAYER_STEPS ?? 30);
  const layerSections = [
    {
      arms: compressionArms,
      target: "1.1x",
      what: `LG_COMPRESSION=${compressionSetting}${compressionSetting === "auto" ? " (brotli 4)" : ""} vs off`,
    },
    {
      arms: encryptionArms(),
      target: "1.3x",
      what: "LG_ENCRYPTION_KEYS set vs unset, both compressed",
    },
  ].filter(({ arms }) => sections.has(arms.layer));
  for (const { arms, target, what } of layerSections) {
    const table: string[][] = [];
    for (const kind of leanLatencyKinds.filter((k) => kinds.includes(k))) {
      table.push(
        ...(await layerRows(kind, workDir, arms, {
          chatIterations: latencyIterations,
          appendSteps,
          getStateRepeats: repeats * 3,
        })),
      );
      console.log(`[bench] ${kind} ${arms.layer} on/off done`);
    }
    printTable(
      `${arms.layer[0]!.toUpperCase()}${arms.layer.slice(1)}: ${what}, same saver, interleaved; ratios on / off (target <= ${target})`,
      layerHeader,
      table,
    );
    if (arms === compressionArms)
      console.log(
        `Floor of the append getState's extra cost: decompressing its ${appendSteps} bodies alone, one thread: ${decompressionAloneMs(appendSteps, repeats * 3).toFixed(1)} ms (median)`,
      );
  }

  const listSavers = new Map<SaverKind, { bench: BenchSaver; threadId: string }>();
  for (const kind of sections.has("list") ? kinds : []) {
    const bench = await openBenchSaver(kind, workDir);
    listSavers.set(kind, { bench, threadId: await fillThread(bench.saver, listCheckpoints) });
    console.log(`[bench] ${kind}: ${listCheckpoints} checkpoints written for list()`);
  }
  const filters = {
    "one match ({ step })": { step: Math.floor(listCheckpoints * 0.77) },
    "a tenth ({ source: 'input' })": { source: "input" },
  };
  const listTimes = new Map<string, number[]>();
  const listMatches = new Map<string, number>();
  for (let run = 0; run < 5; run += 1) {
    for (const [label, filter] of Object.entries(filters)) {
      for (const [kind, { bench, threadId }] of listSavers) {
        const { ms, matches } = await timeFilteredList(bench.saver, threadId, filter);
        const key = `${kind}\0${label}`;
        listTimes.set(key, [...(listTimes.get(key) ?? []), ms]);
        listMatches.set(key, matches);
      }
    }
  }
  const listRows: string[][] = [];
  for (const kind of listSavers.keys()) {
    const stockKind = kind.replace("Lean", "").replace("+fs", "");
    const cells = Object.keys(filters).flatMap((label) => {
      const ms = median(listTimes.get(`${kind}\0${label}`)!);
      const stockMs = median(listTimes.get(`${stockKind}\0${label}`) ?? [Number.NaN]);
      return [
        `${ms.toFixed(1)} ms (${listMatches.get(`${kind}\0${label}`)})`,
        kind.startsWith("Lean") ? ratio(ms, stockMs) : "",
      ];
    });
    listRows.push([kind, ...cells]);
  }
  for (const { bench } of listSavers.values()) await bench.dispose();
  if (sections.has("list"))
    printTable(
      `list() with a metadata filter on one thread of ${listCheckpoints} checkpoints (median of 5, interleaved; matches in parentheses)`,
      ["saver", ...Object.keys(filters).flatMap((label) => [label, "lean / stock"])],
      listRows,
    );
  if (sections.has("retention")) {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./delta-retention.ts", import.meta.url)),
        String(retentionTurns),
        workDir,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    await once(child, "exit");
    const result = JSON.parse(stdout.trim().split("\n").pop()!);
    printTable(
      `Pruning a DeltaChannel chat of ${result.turns} turns (${result.checkpoints} checkpoints; last messages snapshot ${result.distanceToSnapshot} checkpoints behind the oldest kept) to keepLast 10, SQLite`,
      ["way", "checkpoints kept", "bytes before", "bytes after"],
      [
        [
          "retained history (prune)",
          String(result.retainedHistory.keep),
          `${mb(result.retainedHistory.before)} MB`,
          `${mb(result.retainedHistory.after)} MB`,
        ],
        [
          "keep ancestors to the snapshot",
          String(result.keepAncestors.keep),
          `${mb(result.keepAncestors.before)} MB`,
          `${mb(result.keepAncestors.after)} MB`,
        ],
      ],
    );
  }
  if (sections.has("text")) {
    const leanConfigurations: TextConfiguration[] = [
      {
        label: "LeanSqliteSaver, compression off",
        kind: "LeanSqliteSaver",
        env: { LG_COMPRESSION: "off" },
      },
      {
        label: "LeanSqliteSaver, compression on (auto)",
        kind: "LeanSqliteSaver",
        env: { LG_COMPRESSION: "auto" },
      },
    ];
    const textRows: string[][] = [];
    const perUnit = (bytes: number, raw: number) =>
      `${mb(bytes)} MB (${(bytes / raw).toFixed(2)}x)`;
    for (const { shape, label } of textShapes) {
      const stock = await runTextInState("SqliteSaver", shape, workDir, {});
      const raw = stock.rawBytes;
      textRows.push([label, "raw bytes", `${mb(raw)} MB (1.00x)`, `${stock.files} files`]);
      textRows.push([
        label,
        "gzip -6 per file, summed",
        perUnit(await gzipPerFileBytes(shape), raw),
        "",
      ]);
      textRows.push([
        label,
        "SqliteSaver (stock)",
        perUnit(stock.bytesOnDisk, raw),
        stock.identical ? "state identical" : "STATE DIFFERS",
      ]);
      for (const configuration of leanConfigurations) {
        const lean = await runTextInState(configuration.kind, shape, workDir, configuration.env);
        textRows.push([
          label,
          configuration.label,
          perUnit(lean.bytesOnDisk, raw),
          lean.identical ? "state identical" : "STATE DIFFERS",
        ]);
      }
      console.log(`[bench] text in state ${shape} done`);
    }
    // bench/workload-run.ts opens the saver with default flags: compression `auto`.
    const append = await runWorkload("LeanSqliteSaver", steps);
    textRows.push([
      `append workload, ${steps} random ${fileBytes / 1000} KB files`,
      "LeanSqliteSaver, compression on (auto)",
      perUnit(append.bytesOnDisk, steps * fileBytes),
      append.identical ? "state identical" : "STATE DIFFERS",
    ]);
    printTable(
      "Text in state: bytes on disk (SQLite db + WAL + shm + blob directory, after close) against the raw bytes of the files",
      ["workload", "stored by", "bytes on disk", ""],
      textRows,
    );
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
