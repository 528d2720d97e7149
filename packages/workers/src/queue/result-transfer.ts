import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, unlink } from "node:fs/promises";
import { StepError, WorkersErrorCode } from "../errors.js";
import { writeOutputAtomically } from "../output-writer.js";
import type { SharedBlobStore, SharedContentIds } from "./shared-blob-store.js";

/**
 * Outputs up to this size move in one buffer instead of a stream: a typical generated file is
 * tens of KB, where a stream's chunked reads and writes cost more than the bytes themselves.
 */
const WHOLE_BUFFER_MAX_BYTES = 1024 * 1024;

/** The store's keyed ids when it names bodies by them (an encrypting store), else undefined. */
async function keyedIdsOf(store: SharedBlobStore): Promise<SharedContentIds | undefined> {
  const ids = await store.contentIds?.();
  return ids?.keyed === true ? ids : undefined;
}

/** Passes chunks on, hashing them with every hasher on the way. */
async function* hashedOnTheWay(
  source: AsyncIterable<Uint8Array>,
  hashers: readonly { update(chunk: Uint8Array): void }[],
): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    for (const hasher of hashers) hasher.update(chunk);
    yield chunk;
  }
}

/**
 * Worker side: moves a step's output file into the shared store and removes the file. The id the
 * store computes while streaming must be the sha256 the step runner computed while writing; a
 * difference means the file changed under us, and the step is failed rather than a wrong id sent.
 * A store with keyed ids (it encrypts) names the output otherwise: then the bytes sent must hash to
 * the runner's sha256, and the store's id must be its keyed id of those very bytes.
 */
export async function storeStepOutput(
  store: SharedBlobStore,
  file: { path: string; sha256: string; bytes: number },
  label: string,
): Promise<{ id: string; bytes: number }> {
  try {
    const keyed = await keyedIdsOf(store);
    if (keyed !== undefined) return await storeKeyed(store, keyed, file, label);
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

async function storeKeyed(
  store: SharedBlobStore,
  keyed: SharedContentIds,
  file: { path: string; sha256: string; bytes: number },
  label: string,
): Promise<{ id: string; bytes: number }> {
  const sent = createHash("sha256");
  const named = keyed.hasher();
  let stored: { id: string; bytes: number };
  if (file.bytes <= WHOLE_BUFFER_MAX_BYTES) {
    const bytes = await readFile(file.path);
    sent.update(bytes);
    named.update(bytes);
    stored = await putWhole(store, bytes);
  } else {
    stored = await store.putStream(hashedOnTheWay(createReadStream(file.path), [sent, named]));
  }
  const sentSha256 = sent.digest("hex");
  const expectedId = named.digestHex();
  if (sentSha256 !== file.sha256 || stored.id !== expectedId) {
    throw new StepError(
      WorkersErrorCode.resultCorrupt,
      `Step ${label} wrote sha256 ${file.sha256} but sent bytes hashing to ${sentSha256}, which the shared store named ${stored.id} (expected ${expectedId})`,
      { stepLabel: label },
    );
  }
  return stored;
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
  // A store with keyed ids: what is written must be what its id names under the store's key.
  let keyedId: (() => string) | undefined;
  try {
    const keyed = await keyedIdsOf(store);
    let content: Uint8Array | AsyncIterable<Uint8Array> =
      blob.bytes <= WHOLE_BUFFER_MAX_BYTES ? await store.get(blob.id) : store.getStream(blob.id);
    if (keyed !== undefined && content instanceof Uint8Array) {
      const id = keyed.of(content);
      keyedId = () => id;
    } else if (keyed !== undefined) {
      const named = keyed.hasher();
      content = hashedOnTheWay(content as AsyncIterable<Uint8Array>, [named]);
      keyedId = () => named.digestHex();
    }
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
  const writtenId = keyedId === undefined ? written.sha256 : keyedId();
  if (writtenId !== blob.id || written.bytes !== blob.bytes) {
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
