import { createHash } from "node:crypto";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { StepContent } from "./define-step.js";
import { WorkersErrorCode } from "./errors.js";

/** A coded failure raised inside the step runner; flattened to data before leaving the worker. */
export class OutputError extends Error {
  constructor(
    readonly code: typeof WorkersErrorCode.outputTooLarge | typeof WorkersErrorCode.outputInvalid,
    message: string,
  ) {
    super(message);
    this.name = "OutputError";
  }
}

export interface WrittenOutput {
  bytes: number;
  sha256: string;
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
  );
}

async function* chunksOf(content: StepContent): AsyncGenerator<Uint8Array> {
  if (typeof content === "string") {
    yield Buffer.from(content, "utf8");
    return;
  }
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  if (!isIterable(content)) {
    throw new OutputError(
      WorkersErrorCode.outputInvalid,
      `Step returned ${content === null ? "null" : typeof content}; expected a string, a Uint8Array, or an (async) iterable of those`,
    );
  }
  for await (const chunk of content as AsyncIterable<unknown>) {
    if (typeof chunk === "string") yield Buffer.from(chunk, "utf8");
    else if (chunk instanceof Uint8Array) yield chunk;
    else
      throw new OutputError(
        WorkersErrorCode.outputInvalid,
        `Step yielded a chunk of type ${chunk === null ? "null" : typeof chunk}; expected string or Uint8Array`,
      );
  }
}

/**
 * Writes a step's content to `finalPath` so that readers see either nothing or the whole file:
 * chunks stream into an exclusive temp file beside it (hashing and counting as they go), the temp
 * file is fsynced, renamed over the target, and the directory fsynced so the rename survives a
 * crash. Past `maxBytes` the write stops and the temp file is removed.
 */
export async function writeOutputAtomically(
  content: StepContent,
  target: {
    finalPath: string;
    tempPath: string;
    maxBytes: number;
    onChunk?: () => void;
    /** false only for the boot-time warm-up, whose file nobody reads. @default true */
    durable?: boolean;
  },
): Promise<WrittenOutput> {
  const directory = dirname(target.finalPath);
  await mkdir(directory, { recursive: true });
  const hash = createHash("sha256");
  let bytes = 0;
  const file = await open(target.tempPath, "wx");
  try {
    for await (const chunk of chunksOf(content)) {
      bytes += chunk.byteLength;
      if (bytes > target.maxBytes) {
        throw new OutputError(
          WorkersErrorCode.outputTooLarge,
          `Step output passed the ${target.maxBytes}-byte cap (LG_STEP_MAX_OUTPUT_MB) at ${bytes} bytes`,
        );
      }
      hash.update(chunk);
      await file.write(chunk);
      target.onChunk?.();
    }
    if (target.durable !== false) await file.sync();
  } catch (error) {
    await file.close().catch(() => {});
    await unlink(target.tempPath).catch(() => {});
    throw error;
  }
  await file.close();
  await rename(target.tempPath, target.finalPath);
  if (target.durable === false) return { bytes, sha256: hash.digest("hex") };
  const directoryHandle = await open(directory, "r");
  try {
    await directoryHandle.sync();
  } finally {
    await directoryHandle.close();
  }
  return { bytes, sha256: hash.digest("hex") };
}
