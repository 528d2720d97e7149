import { randomBytes } from "node:crypto";
import {
  type CompressionSetting,
  decodeBody,
  encodeBody,
  resolveCompression,
} from "@leangraph/serde";
import {
  buildAppendGraph,
  digestFiles,
  expectedDigest,
  generatedFile,
} from "../test/fixtures/append-workload.js";
import { ChatLatencyRun, median } from "./latency.js";
import { type BenchSaver, openBenchSaver, type SaverKind } from "./saver-kinds.js";

/**
 * A storage layer's cost, measured as each lean saver against itself with the layer on and off,
 * in this one process, interleaved (the arms alternate which goes first), so machine noise hits
 * both alike: chat put / getTuple medians, getState of the append workload (200 KB generated
 * files, one per step) and bytes on disk for each arm. Issue 18 asks it of compression
 * (LG_COMPRESSION=auto against off), issue 19 of encryption (keys set against none, both
 * compressed as by default).
 */
export interface LayerBenchOptions {
  chatIterations: number;
  appendSteps: number;
  getStateRepeats: number;
}

const fileBytes = 200_000;
const arms = ["on", "off"] as const;

/** The layer measured: its name in the table and the LG_* flags of each arm. */
export interface LayerArms {
  layer: string;
  on: Record<string, string>;
  off: Record<string, string>;
}

/** The on arm writes with BENCH_COMPRESSION (default `auto`; `zstd` on Node >= 22.15). */
export const compressionSetting = process.env.BENCH_COMPRESSION ?? "auto";

export const compressionArms: LayerArms = {
  layer: "compression",
  on: { LG_COMPRESSION: compressionSetting },
  off: { LG_COMPRESSION: "off" },
};

/** A fresh random key per run: the bench never reads or prints a real one. */
export function encryptionArms(): LayerArms {
  const key = randomBytes(32).toString("base64");
  return {
    layer: "encryption",
    on: { LG_COMPRESSION: "auto", LG_ENCRYPTION_KEYS: `bench:${key}` },
    off: { LG_COMPRESSION: "auto" },
  };
}

function ratio(on: number, off: number): string {
  return `${(on / off).toFixed(2)}x`;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

export async function layerRows(
  kind: SaverKind,
  workDir: string,
  layer: LayerArms,
  options: LayerBenchOptions,
): Promise<string[][]> {
  const savers = {} as Record<(typeof arms)[number], BenchSaver>;
  for (const arm of arms) savers[arm] = await openBenchSaver(kind, workDir, undefined, layer[arm]);
  try {
    const chats = {
      on: new ChatLatencyRun(savers.on.saver, 20),
      off: new ChatLatencyRun(savers.off.saver, 20),
    };
    for (let iteration = 0; iteration < options.chatIterations; iteration += 1) {
      const order = iteration % 2 === 0 ? arms : ([...arms].reverse() as (typeof arms)[number][]);
      for (const arm of order) await chats[arm].step();
    }
    const warm = Math.min(20, Math.floor(options.chatIterations / 5));
    const put = (arm: (typeof arms)[number]) => median(chats[arm].putUs.slice(warm));
    const get = (arm: (typeof arms)[number]) => median(chats[arm].getTupleUs.slice(warm));

    const config = {
      configurable: { thread_id: "append" },
      recursionLimit: options.appendSteps + 10,
    };
    const graphs = {
      on: buildAppendGraph(savers.on.saver, fileBytes),
      off: buildAppendGraph(savers.off.saver, fileBytes),
    };
    const invokeMs = { on: 0, off: 0 };
    for (const arm of arms)
      invokeMs[arm] = await timed(() =>
        graphs[arm].invoke({ target: options.appendSteps }, config),
      );
    const getStateMs = { on: [] as number[], off: [] as number[] };
    // CPU time as well (this process, the zlib thread pool included): a busy machine stretches
    // wall time arm by arm, while the CPU a getState spends barely moves with load.
    const getStateCpuMs = { on: [] as number[], off: [] as number[] };
    for (let repeat = 0; repeat < options.getStateRepeats; repeat += 1) {
      const order = repeat % 2 === 0 ? arms : ([...arms].reverse() as (typeof arms)[number][]);
      for (const arm of order) {
        let files: string[] = [];
        const cpuBefore = process.cpuUsage();
        getStateMs[arm].push(
          await timed(async () => {
            files = (await graphs[arm].getState(config)).values.files;
          }),
        );
        const cpu = process.cpuUsage(cpuBefore);
        getStateCpuMs[arm].push((cpu.user + cpu.system) / 1000);
        if (digestFiles(files) !== expectedDigest(options.appendSteps, fileBytes))
          throw new Error(`${layer.layer} bench: ${kind} (${arm}) read back a different state`);
      }
    }
    const bytes = { on: await savers.on.bytesOnDisk(), off: await savers.off.bytesOnDisk() };
    const unique = options.appendSteps * fileBytes;
    const chatRow = (arm: (typeof arms)[number]) => [
      `${kind}, ${layer.layer} ${arm}`,
      `${put(arm).toFixed(0)} µs`,
      `${get(arm).toFixed(0)} µs`,
      `${median(getStateMs[arm]).toFixed(0)} ms`,
      `${median(getStateCpuMs[arm]).toFixed(0)} ms`,
      `${(invokeMs[arm] / 1000).toFixed(2)} s`,
      `${(bytes[arm] / 1e6).toFixed(2)} MB (${(bytes[arm] / unique).toFixed(3)}x)`,
    ];
    return [
      chatRow("on"),
      chatRow("off"),
      [
        `${kind}, on / off`,
        ratio(put("on"), put("off")),
        ratio(get("on"), get("off")),
        ratio(median(getStateMs.on), median(getStateMs.off)),
        ratio(median(getStateCpuMs.on), median(getStateCpuMs.off)),
        ratio(invokeMs.on, invokeMs.off),
        ratio(bytes.on, bytes.off),
      ],
    ];
  } finally {
    for (const arm of arms) await savers[arm].dispose();
  }
}

export const layerHeader = [
  "saver",
  "chat put median",
  "chat getTuple median",
  "append getState median",
  "append getState CPU median",
  "append invoke",
  "append bytes on disk (x unique)",
];

/**
 * The floor compression adds to the append getState: decompressing the same bodies, as the
 * default setting stores them, one after another on one thread (ms, median of `repeats`). The on
 * arm must spend this CPU on top of everything the off arm does; on two cores it can only hide
 * it behind the main thread's own work.
 */
export function decompressionAloneMs(steps: number, repeats: number): number {
  const compression = resolveCompression(compressionSetting as CompressionSetting);
  const stored = Array.from({ length: steps }, (_, index) =>
    encodeBody(Buffer.from(generatedFile(index, fileBytes)), compression),
  );
  const times: number[] = [];
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    const started = performance.now();
    for (const body of stored) decodeBody(body, "bench body");
    times.push(performance.now() - started);
  }
  return median(times);
}
