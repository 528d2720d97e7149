/**
 * Text in state (issue 18): bytes on disk for (a) the demo agent's `--state naive` and (b) real
 * code files into a `Record<path, text>`, each configuration in a fresh process
 * (text-in-state-run.ts), beside the floor of compressing each file alone (gzip -6 per file,
 * summed) and stock SqliteSaver.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { SaverKind } from "./saver-kinds.js";
import { type TextShape, textCorpus } from "./text-corpus.js";

const runScript = fileURLToPath(new URL("./text-in-state-run.ts", import.meta.url));

export const textShapes: { shape: TextShape; label: string }[] = [
  { shape: "demo", label: "(a) demo --state naive, 200 modules of 13 KB" },
  { shape: "record", label: "(b) real code files into Record<path, text>" },
];

/** A lean configuration of the table: its label and the LG_* flags that make it. */
export interface TextConfiguration {
  label: string;
  kind: SaverKind;
  env: Record<string, string>;
}

export interface TextRunResult {
  kind: SaverKind;
  shape: TextShape;
  files: number;
  rawBytes: number;
  bytesOnDisk: number;
  identical: boolean;
}

export async function runTextInState(
  kind: SaverKind,
  shape: TextShape,
  workDir: string,
  env: Record<string, string>,
): Promise<TextRunResult> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", runScript, kind, shape, workDir, JSON.stringify(env)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${kind} text-in-state run (${shape}) exited with ${code}`);
  return JSON.parse(stdout.trim().split("\n").pop()!) as TextRunResult;
}

/** The floor of compressing each body alone: gzip level 6 of every file, summed. */
export async function gzipPerFileBytes(shape: TextShape): Promise<number> {
  return (await textCorpus(shape)).reduce(
    (total, file) => total + gzipSync(Buffer.from(file.text, "utf8"), { level: 6 }).byteLength,
    0,
  );
}
