import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";

/**
 * A demo run's final output, in a form two runs can be compared byte for byte: every project
 * file's bytes, and the thread's final state minus what is measured rather than produced (step
 * timings, heap peaks, the worker that ran a step).
 */
export interface DemoOutput {
  files: Map<string, Buffer>;
  /** Canonical JSON of the deterministic part of the final state. */
  stateJson: string;
}

const measuredFields = new Set(["ms", "heapUsedPeakBytes", "threadId", "attempts"]);

export async function readDemoOutput(
  runDir: string,
  saver: BaseCheckpointSaver,
  threadId: string,
): Promise<DemoOutput> {
  const projectDir = join(runDir, "project");
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(projectDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(projectDir, path), await readFile(path));
  }
  const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
  const values = (tuple?.checkpoint.channel_values ?? {}) as Record<string, unknown>;
  const deterministic: Record<string, unknown> = {};
  for (const channel of Object.keys(values).sort()) {
    if (channel.startsWith("branch:") || channel.startsWith("__")) continue;
    deterministic[channel] = stripMeasured(values[channel]);
  }
  const results = deterministic.results;
  if (Array.isArray(results)) {
    // Waves re-run after a crash may finish in another order; the set of results is what counts.
    deterministic.results = [...results].sort((a, b) =>
      String((a as { id?: string }).id).localeCompare(String((b as { id?: string }).id)),
    );
  }
  const reviewed = deterministic.reviewed;
  if (Array.isArray(reviewed)) {
    // Each wave is reviewed beside the next one once the review isolate is ready, so the order
    // in which files join this list depends on timing; which files and what was found do not.
    deterministic.reviewed = [...reviewed].sort((a, b) =>
      String((a as { path?: string }).path).localeCompare(String((b as { path?: string }).path)),
    );
  }
  const filesInState = deterministic.files;
  if (Array.isArray(filesInState)) {
    deterministic.files = [...filesInState].sort((a, b) =>
      String((a as { path?: string }).path).localeCompare(String((b as { path?: string }).path)),
    );
  }
  return { files, stateJson: JSON.stringify(deterministic) };
}

function stripMeasured(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMeasured);
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (!measuredFields.has(key))
        copy[key] = stripMeasured((value as Record<string, unknown>)[key]);
    }
    return copy;
  }
  return value;
}

/** Undefined when identical; otherwise the first difference, named. */
export function compareDemoOutput(expected: DemoOutput, actual: DemoOutput): string | undefined {
  for (const [path, bytes] of expected.files) {
    const other = actual.files.get(path);
    if (!other) return `project file ${path} is missing`;
    if (!bytes.equals(other))
      return `project file ${path} differs (${digest(bytes)} vs ${digest(other)})`;
  }
  for (const path of actual.files.keys()) {
    if (!expected.files.has(path)) return `unexpected project file ${path}`;
  }
  if (expected.stateJson !== actual.stateJson) {
    let at = 0;
    while (expected.stateJson[at] === actual.stateJson[at]) at += 1;
    return `final state differs at byte ${at}: ${JSON.stringify(expected.stateJson.slice(at, at + 60))} vs ${JSON.stringify(actual.stateJson.slice(at, at + 60))}`;
  }
  return undefined;
}

function digest(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 12);
}
