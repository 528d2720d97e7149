/**
 * `pnpm bench`: RedactingSerializer beside JsonPlusSerializer on the same inputs, in the same run.
 * Prints medians (ms per call), throughput in MB/s of the stock JSON size, payload bytes and the
 * ratio ours/stock (time: < 1 is faster). Blobs go to a real filesystem store in a temp dir.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { createFsBlobStore, RedactingSerializer } from "../src/index.js";

const mb = 1024 * 1024;

function chatState(turns: number) {
  const messages = [];
  for (let turn = 0; turn < turns; turn++) {
    messages.push(
      new HumanMessage(
        `Please update module ${turn}: ${"add error handling and tests. ".repeat(8)}`,
      ),
    );
    messages.push(
      new AIMessage({
        content: `Working on module ${turn}.`,
        tool_calls: [
          {
            id: `call_${turn}`,
            name: "write_file",
            args: {
              path: `src/module-${turn}.ts`,
              text: `export const value${turn} = ${turn};\n`.repeat(20),
            },
            type: "tool_call",
          },
        ],
      }),
    );
    messages.push(
      new ToolMessage({ content: `wrote src/module-${turn}.ts`, tool_call_id: `call_${turn}` }),
    );
  }
  return {
    messages,
    plan: Array.from({ length: 10 }, (_, index) => ({ step: index, done: index < turns / 3 })),
    files: new Map(
      Array.from({ length: 10 }, (_, index) => [`src/module-${index}.ts`, { bytes: 600 + index }]),
    ),
    startedAt: new Date(0),
  };
}

/**
 * Only messages, as the leangraph savers load a message channel (a JSON array of messages): what
 * the synchronous message fast path covers. The 320-message chat.
 */
function chatMessages(count: number) {
  return Array.from({ length: count }, (_, index) =>
    index % 2
      ? new AIMessage({
          content: `answer ${index}: ${"store only ids and deltas; ".repeat(12)}`,
          id: `a${index}`,
        })
      : new HumanMessage({ content: `question ${index}`, id: `h${index}` }),
  );
}

function largeStringState(count: number, bytes: number) {
  const body = "const generated = true;\n".repeat(Math.ceil(bytes / 24)).slice(0, bytes - 8);
  return {
    ...chatState(4),
    artifacts: Array.from({ length: count }, (_, index) => String(index).padStart(8, "0") + body),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Median ms per call of each contestant, over `samples` rounds of `batch` calls. Rounds interleave
 * the contestants so JIT warm-up, GC and CPU contention from other processes hit both alike.
 */
async function timeInterleaved(
  batch: number,
  samples: number,
  contestants: (() => Promise<unknown>)[],
): Promise<number[]> {
  for (const run of contestants) {
    for (let warmup = 0; warmup < Math.min(batch, 20); warmup++) await run();
  }
  const perCall = contestants.map(() => [] as number[]);
  for (let sample = 0; sample < samples; sample++) {
    for (const [index, run] of contestants.entries()) {
      const start = performance.now();
      for (let call = 0; call < batch; call++) await run();
      perCall[index]!.push((performance.now() - start) / batch);
    }
  }
  return perCall.map(median);
}

interface Row {
  scenario: string;
  serializer: string;
  dumpsMs: number;
  loadsMs: number;
  jsonBytes: number;
  payloadBytes: number;
  stock?: Row;
}

interface Contestant {
  name: string;
  /** Called per dumps/loads call; returning a new instance each time means a cold cache. */
  serializer: () => SerializerProtocol;
}

async function measureScenario(
  scenario: string,
  value: unknown,
  batch: number,
  samples: number,
  contestants: Contestant[],
): Promise<Row[]> {
  const payloads: [string, Uint8Array][] = [];
  for (const { serializer } of contestants) payloads.push(await serializer().dumpsTyped(value));
  const jsonBytes = payloads[0]![1].byteLength;
  const dumpsMs = await timeInterleaved(
    batch,
    samples,
    contestants.map(
      ({ serializer }) =>
        () =>
          serializer().dumpsTyped(value),
    ),
  );
  const loadsMs = await timeInterleaved(
    batch,
    samples,
    contestants.map(
      ({ serializer }, index) =>
        () =>
          serializer().loadsTyped(...payloads[index]!),
    ),
  );
  const rows: Row[] = contestants.map(({ name }, index) => ({
    scenario,
    serializer: name,
    dumpsMs: dumpsMs[index]!,
    loadsMs: loadsMs[index]!,
    jsonBytes,
    payloadBytes: payloads[index]![1].byteLength,
  }));
  for (const row of rows.slice(1)) row.stock = rows[0];
  return rows;
}

function formatRow(row: Row): string[] {
  const throughput = (ms: number) => ((row.jsonBytes / mb / ms) * 1000).toFixed(0);
  const ratio = (ours: number, stock: number | undefined) =>
    stock === undefined ? "" : `${(ours / stock).toFixed(2)}x`;
  return [
    row.scenario,
    row.serializer,
    row.dumpsMs.toFixed(3),
    throughput(row.dumpsMs),
    row.loadsMs.toFixed(3),
    throughput(row.loadsMs),
    String(row.payloadBytes),
    ratio(row.dumpsMs, row.stock?.dumpsMs),
    ratio(row.loadsMs, row.stock?.loadsMs),
  ];
}

function printTable(rows: Row[]) {
  const header = [
    "scenario",
    "serializer",
    "dumps ms",
    "dumps MB/s",
    "loads ms",
    "loads MB/s",
    "payload B",
    "dumps/stock",
    "loads/stock",
  ];
  const cells = [header, ...rows.map(formatRow)];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  for (const row of cells)
    console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "));
}

async function main() {
  const blobDir = await mkdtemp(join(tmpdir(), "lg-serde-bench-"));
  const rows: Row[] = [];
  const stock = new JsonPlusSerializer();
  const warm = new RedactingSerializer({ blobStore: createFsBlobStore({ dir: blobDir }) });
  const contestants: Contestant[] = [
    { name: "JsonPlus (stock)", serializer: () => stock },
    { name: "Redacting, warm cache", serializer: () => warm },
  ];
  const cold: Contestant = {
    name: "Redacting, cold cache",
    serializer: () => new RedactingSerializer({ blobStore: createFsBlobStore({ dir: blobDir }) }),
  };
  try {
    rows.push(...(await measureScenario("chat, 30 turns", chatState(30), 200, 15, contestants)));
    rows.push(...(await measureScenario("chat, 5 turns", chatState(5), 1000, 15, contestants)));
    rows.push(
      ...(await measureScenario("320 messages", chatMessages(320), 50, 15, contestants)),
      ...(await measureScenario(
        "30 turns, messages only",
        chatState(30).messages,
        100,
        15,
        contestants,
      )),
    );
    const withCold = [...contestants, cold];
    const tenMb = largeStringState(4, 10 * mb);
    rows.push(...(await measureScenario("4 x 10 MB strings", tenMb, 2, 7, withCold)));
    const hundredMb = largeStringState(1, 100 * mb);
    rows.push(...(await measureScenario("1 x 100 MB string", hundredMb, 1, 5, withCold)));
    console.log(
      `Node ${process.version}; medians; MB/s = stock JSON bytes / time; ratio < 1 means faster than stock.\n`,
    );
    printTable(rows);
  } finally {
    await rm(blobDir, { recursive: true, force: true });
  }
}

await main();
