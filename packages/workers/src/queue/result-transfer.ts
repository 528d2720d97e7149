import { createReadStream } from "node:fs";
import { readFile, unlink } from "node:fs/promises";
import { StepError, WorkersErrorCode } from "../errors.js";
import { writeOutputAtomically } from "../output-writer.js";
import type { SharedBlobStore } from "./shared-blob-store.js";

/**
 * Outputs up to this size move in one buffer instead of a stream: a typical generated file is
 * tens of KB, where a stream's chunked reads and writes cost more than the bytes themselves.
 */
const WHOLE_BUFFER_MAX_BYTES = 1024 * 1024;

/**
 * Worker side: moves a step's output file into the shared store and removes the file. The id the
 * store computes while streaming must be the sha256 the step runner computed while writing; a
 * difference means the file changed under us, and the step is failed rather than a wrong id sent.
 */
export async function storeStepOutput(
  store: SharedBlobStore,
  file: { path: string; sha256: string; bytes: number },
  label: string,
): Promise<{ id: string; bytes: number }> {
  try {
    const stored =
      file.bytes <= WHOLE_BUFFER_MAX_BYTES
        ? await putWhole(store, await readFile(file.path))
        : await store.putStream(createReadStream(file.path));
    if (stored.id !== file.sha256) {
      throw new StepError(
        WorkersErrorCode.resultCorrupt,
        `Step ${label} wrote sha256 ${file.sha256} but the shared store received ${stored.id}`,
        { stepLabel: label },
      );
    }
    return stored;
  } finally {
    await unlink(file.path).catch(() => {});
  }
}

/**
 * Agent side: writes the output named by `blobId` to `outputPath` the way a local step does
 * (temp file beside it, fsync, rename), streaming so no output is ever whole in this heap. The
 * store verifies the hash as it reads; the byte count and hash are checked again here.
 */
export async function materializeStepOutput(
  store: SharedBlobStore,
  blob: { id: string; bytes: number },
  target: { outputPath: string; tempPath: string; maxOutputBytes: number; durable: boolean },
  label: string,
): Promise<{ bytes: number; sha256: string }> {
  let written: { bytes: number; sha256: string };
  try {
    const content =
      blob.bytes <= WHOLE_BUFFER_MAX_BYTES ? await store.get(blob.id) : store.getStream(blob.id);
    written = await writeOutputAtomically(content, {
      finalPath: target.outputPath,
      tempPath: target.tempPath,
      maxBytes: target.maxOutputBytes,
      durable: target.durable,
    });
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    throw new StepError(
      code === WorkersErrorCode.outputTooLarge
        ? WorkersErrorCode.outputTooLarge
        : WorkersErrorCode.resultCorrupt,
      `Step ${label}: could not read its output ${blob.id} from the shared store: ${(error as Error)?.message ?? error}`,
      { cause: error, stepLabel: label },
    );
  }
  if (written.sha256 !== blob.id || written.bytes !== blob.bytes) {
    await unlink(target.outputPath).catch(() => {});
    throw new StepError(
      WorkersErrorCode.resultCorrupt,
      `Step ${label}: the shared store returned ${written.bytes} bytes hashing to ${written.sha256} for ${blob.id} (${blob.bytes} bytes)`,
      { stepLabel: label },
    );
  }
  return written;
}

async function putWhole(store: SharedBlobStore, bytes: Uint8Array) {
  return { id: await store.put(bytes), bytes: bytes.byteLength };
}
