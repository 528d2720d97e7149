import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  utimes,
} from "node:fs/promises";
import { join } from "node:path";
import { parseOptions } from "@leangraph/errors";
import { z } from "zod";
import {
  type BlobId,
  type BlobStat,
  type BlobStore,
  type BodyStore,
  blobMissingError,
  blobReadFailedError,
  isBlobId,
} from "../blob-store.js";
import type { BodyLayer } from "../body/body-layer.js";
import { bodyLayersOption } from "../body/layer-options.js";
import { layeredBlobStore } from "../body/layered-blob-store.js";
import { LeangraphError, SerdeErrorCode } from "../errors.js";

export interface FsBlobStoreOptions {
  /**
   * Directory holding the blobs, fanned out as `ab/cdef…` like pnpm's content-addressable store.
   * @default ".lg-blobs"
   */
  dir?: string;
  /**
   * fsync each blob and its directory before `put` resolves. Turning it off trades crash safety
   * (a row could reference a blob the OS never wrote) for speed; only for throwaway runs.
   * @default true
   */
  fsync?: boolean;
  /**
   * Transformations of every stored body (compression, encryption), applied in order on write and
   * in reverse on read; ids stay the sha256 of the plain bytes. Bodies stored without them load.
   * @default [] (bodies stored as they are)
   */
  layers?: readonly BodyLayer[];
}

const fsBlobStoreOptionsSchema = z.strictObject({
  dir: z.string({ message: "a directory path" }).min(1, "a non-empty directory path").optional(),
  fsync: z.boolean({ message: "true or false" }).optional(),
  layers: bodyLayersOption.optional(),
});

const tempSuffix = ".tmp";

/** A file's stat, undefined when it does not exist; any other failure is ERR_LG_BLOB_READ_FAILED. */
async function statOrAbsent(path: string, id: BlobId) {
  try {
    return await stat(path);
  } catch (error) {
    // A stray file where a fan-out directory would be holds no blobs (see namesIn).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw blobReadFailedError(`check blob ${id}`, error);
  }
}

/**
 * A directory's entries; none when it does not exist or is not a directory (a stray file where a
 * fan-out directory would be holds no blobs). Any other failure is ERR_LG_BLOB_READ_FAILED.
 */
async function namesIn(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw blobReadFailedError(`list ${path}`, error);
  }
}

/**
 * A content-addressed blob store on the local filesystem.
 *
 * Writes go to a temp file in the blob's own fan-out directory and are renamed into place, so a
 * reader never sees a partial blob and a crash leaves at most a stray `*.tmp` (never listed).
 */
export function createFsBlobStore(options: FsBlobStoreOptions = {}): BlobStore {
  const parsed = parseOptions(fsBlobStoreOptionsSchema, options, "createFsBlobStore(options)");
  return layeredBlobStore(
    createFsBodyStore(parsed.dir ?? ".lg-blobs", parsed.fsync ?? true),
    parsed.layers,
  );
}

/** The files beneath createFsBlobStore: stored bytes under ids the layered wrapper proves. */
function createFsBodyStore(dir: string, durable: boolean): BodyStore {
  const knownDirs = new Set<string>();

  const pathOf = (id: BlobId) => join(dir, id.slice(0, 2), id.slice(2));

  async function ensureFanOutDir(id: BlobId): Promise<string> {
    const fanOut = join(dir, id.slice(0, 2));
    if (!knownDirs.has(fanOut)) {
      await mkdir(fanOut, { recursive: true });
      knownDirs.add(fanOut);
    }
    return fanOut;
  }

  // A rename is only durable once the directory entry itself is flushed.
  async function syncDir(path: string): Promise<void> {
    if (!durable) return;
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function writeAtomically(
    id: BlobId,
    write: (handle: FileHandle) => Promise<void>,
  ): Promise<void> {
    const fanOut = await ensureFanOutDir(id);
    const tempPath = `${pathOf(id)}.${process.pid}.${randomBytes(6).toString("hex")}${tempSuffix}`;
    const handle = await open(tempPath, "wx");
    try {
      await write(handle);
      if (durable) await handle.sync();
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(tempPath).catch(() => {});
      throw error;
    }
    await handle.close();
    await rename(tempPath, pathOf(id));
    await syncDir(fanOut);
  }

  function writeFailed(error: unknown): LeangraphError {
    if (error instanceof LeangraphError) return error;
    const code = (error as NodeJS.ErrnoException)?.code ?? "unknown";
    return new LeangraphError(
      SerdeErrorCode.blobWriteFailed,
      `Could not write a blob into ${dir} (${code}).`,
      {
        cause: error,
        hint: "Check that the blob directory exists, is writable and has free space.",
      },
    );
  }

  return {
    async write(id, stored) {
      try {
        await writeAtomically(id, async (handle) => {
          await handle.writeFile(stored);
        });
      } catch (error) {
        throw writeFailed(error);
      }
    },

    async writeStream(stored, idOf) {
      // The id is unknown until the last byte, so stream into a temp file under a random name
      // in the root dir, then move it to its fan-out directory.
      const stagingPath = join(
        dir,
        `staging.${process.pid}.${randomBytes(6).toString("hex")}${tempSuffix}`,
      );
      try {
        await mkdir(dir, { recursive: true });
        const handle = await open(stagingPath, "wx");
        try {
          for await (const chunk of stored) await handle.write(chunk);
          if (durable) await handle.sync();
        } finally {
          await handle.close();
        }
        const id = idOf();
        if (await this.touch(id)) {
          await unlink(stagingPath);
          return;
        }
        const fanOut = await ensureFanOutDir(id);
        await rename(stagingPath, pathOf(id));
        await syncDir(fanOut);
      } catch (error) {
        await unlink(stagingPath).catch(() => {});
        throw writeFailed(error);
      }
    },

    async touch(id) {
      const now = new Date();
      try {
        await utimes(pathOf(id), now, now);
        return true;
      } catch (error) {
        // Deleted meanwhile (a concurrent gc): not stored, so the caller writes it.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw writeFailed(error);
      }
    },

    async read(id) {
      try {
        const bytes = await readFile(pathOf(id));
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") throw blobMissingError(id, error);
        throw blobReadFailedError(`read blob ${id}`, error);
      }
    },

    async *readStream(id) {
      const stream = createReadStream(pathOf(id));
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>)
          yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") throw blobMissingError(id, error);
        throw blobReadFailedError(`read blob ${id}`, error);
      } finally {
        stream.destroy();
      }
    },

    async has(id) {
      return (await statOrAbsent(pathOf(id), id)) !== undefined;
    },

    async stat(id): Promise<BlobStat | undefined> {
      const info = await statOrAbsent(pathOf(id), id);
      return info && { bytes: info.size, writtenAtMs: info.mtimeMs };
    },

    async delete(id) {
      try {
        await unlink(pathOf(id));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw new LeangraphError(SerdeErrorCode.blobWriteFailed, `Could not delete blob ${id}.`, {
          cause: error,
        });
      }
    },

    async *list() {
      for (const prefix of (await namesIn(dir)).sort()) {
        if (prefix.length !== 2) continue;
        // A fan-out directory removed since it was listed holds nothing; any other failure
        // fails the listing (a caller must never take "could not read" for "no blobs").
        const names = await namesIn(join(dir, prefix));
        for (const name of names.sort()) {
          const id = prefix + name;
          if (isBlobId(id)) yield id;
        }
      }
    },
  };
}
