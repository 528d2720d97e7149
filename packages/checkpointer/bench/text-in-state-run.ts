/**
 * Text in state, one configuration in a fresh process:
 *   node --import tsx bench/text-in-state-run.ts <SaverKind> <shape> <workDir> <envJson>
 * `shape` is `record` (real code files, one per step, into `files: Record<path, text>`) or
 * `demo` (the demo agent's naive state: `files: { path, content }[]` and `results` appended per
 * module). Files come from bench/text-corpus.ts. Prints one JSON line: bytes on disk, raw bytes.
 */
import { createHash } from "node:crypto";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { openBenchSaver, type SaverKind } from "./saver-kinds.js";
import { type CorpusFile, type TextShape, textCorpus } from "./text-corpus.js";

const [kind, shape, workDir, envJson] = process.argv.slice(2) as [
  SaverKind,
  TextShape,
  string,
  string,
];

const RecordState = Annotation.Root({
  files: Annotation<Record<string, string>>({
    reducer: (current, update) => ({ ...current, ...update }),
    default: () => ({}),
  }),
});

/** What apps/demo-agent keeps with `--state naive` (graph/state.ts): text and a small result. */
interface GeneratedFile {
  path: string;
  content: string;
}
interface ModuleResult {
  id: string;
  path: string;
  bytes: number;
  sha256: string;
  heapUsedPeakBytes: number;
  ms: number;
  attempts: number;
}
const DemoState = Annotation.Root({
  files: Annotation<GeneratedFile[]>({
    reducer: (current, update) => current.concat(update),
    default: () => [],
  }),
  results: Annotation<ModuleResult[]>({
    reducer: (current, update) => current.concat(update),
    default: () => [],
  }),
});

function resultOf(file: CorpusFile, index: number): ModuleResult {
  return {
    id: `m${String(index).padStart(3, "0")}`,
    path: file.path,
    bytes: Buffer.byteLength(file.text),
    sha256: createHash("sha256").update(file.text).digest("hex"),
    heapUsedPeakBytes: 40_000_000 + index * 1_000,
    ms: 12 + (index % 7),
    attempts: 1,
  };
}

function recordGraph(corpus: readonly CorpusFile[], checkpointer: never) {
  return new StateGraph(RecordState)
    .addNode("write", (state: typeof RecordState.State) => {
      const file = corpus[Object.keys(state.files).length]!;
      return { files: { [file.path]: file.text } };
    })
    .addEdge(START, "write")
    .addConditionalEdges("write", (state: typeof RecordState.State) =>
      Object.keys(state.files).length >= corpus.length ? END : "write",
    )
    .compile({ checkpointer });
}

function demoGraph(corpus: readonly CorpusFile[], checkpointer: never) {
  return new StateGraph(DemoState)
    .addNode("generate", (state: typeof DemoState.State) => {
      const index = state.files.length;
      const file = corpus[index]!;
      return {
        files: [{ path: file.path, content: file.text }],
        results: [resultOf(file, index)],
      };
    })
    .addEdge(START, "generate")
    .addConditionalEdges("generate", (state: typeof DemoState.State) =>
      state.files.length >= corpus.length ? END : "generate",
    )
    .compile({ checkpointer });
}

const corpus = await textCorpus(shape);
const env = JSON.parse(envJson) as Record<string, string>;
const bench = await openBenchSaver(kind, workDir, undefined, env);
try {
  const graph =
    shape === "record"
      ? recordGraph(corpus, bench.saver as never)
      : demoGraph(corpus, bench.saver as never);
  const config = { configurable: { thread_id: "text" }, recursionLimit: corpus.length + 10 };
  await graph.invoke((shape === "record" ? { files: {} } : { files: [] }) as never, config);
  const state = await graph.getState(config);
  const held =
    shape === "record"
      ? Object.values(state.values.files as Record<string, string>)
      : (state.values.files as GeneratedFile[]).map((file) => file.content);
  const identical =
    held.length === corpus.length && held.every((text, index) => text === corpus[index]!.text);
  await bench.saver.close();
  console.log(
    JSON.stringify({
      kind,
      shape,
      files: corpus.length,
      rawBytes: corpus.reduce((total, file) => total + Buffer.byteLength(file.text), 0),
      bytesOnDisk: await bench.bytesOnDisk(),
      identical,
    }),
  );
} finally {
  await bench.dispose().catch(() => undefined);
}
