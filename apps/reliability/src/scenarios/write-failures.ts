import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { createFsBlobStore } from "@leangraph/serde";
import { expectThat, ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { auditStorage, blobItemIdsSqlite } from "../support/storage-audit.js";
import { expectTypedFailure } from "../support/typed-failure.js";

const writeFailed = "ERR_LG_BLOB_WRITE_FAILED";

/** Puts one checkpoint whose value is `bytes` long (>= 64 KB: a blob) on `threadId`. */
async function putBig(saver: LeanSqliteSaver, threadId: string, label: string, bytes: number) {
  const id = uuid6(3);
  await saver.put(
    { configurable: { thread_id: threadId, checkpoint_ns: "" } },
    {
      ...emptyCheckpoint(),
      id,
      channel_values: { report: `${label}:`.padEnd(bytes, label.slice(-1)) },
      channel_versions: { report: 1 },
    },
    { source: "loop", step: 0, parents: {} },
    { report: 1 },
  );
  return id;
}

/** After a failed put: no checkpoint row of the failed thread, no item row without its blob. */
async function expectNothingDangling(
  saver: LeanSqliteSaver,
  failedThreadId: string,
  goodThreads: string[],
) {
  const rows = saver.db
    .prepare("SELECT count(*) AS n FROM lg_checkpoints WHERE thread_id = ?")
    .get(failedThreadId) as { n: number };
  expectThat(rows.n === 0, `${rows.n} checkpoint row(s) stored for the failed put`);
  const audit = await auditStorage(saver, await blobItemIdsSqlite(saver.db), goodThreads);
  expectThat(
    audit.missingBlobs === 0,
    `${audit.missingBlobs} item row(s) reference a missing blob`,
  );
  expectThat(
    audit.unloadableCheckpoints === 0,
    `earlier checkpoints no longer load: ${audit.firstProblem}`,
  );
}

async function blobDirIsAFile(root: string, recorder: ScenarioRecorder) {
  await recorder.check("blob dir is a regular file (read-only dir as root)", async () => {
    const blobDir = join(root, "file-instead-of-dir");
    await writeFile(blobDir, "not a directory");
    const saver = LeanSqliteSaver.fromConnString(join(root, "file-dir.sqlite"), {
      blobStore: createFsBlobStore({ dir: blobDir }),
    });
    try {
      await expectTypedFailure(() => putBig(saver, "failed", "a", 80 * 1024), [writeFailed], "");
      const rows = saver.db
        .prepare("SELECT count(*) AS n FROM lg_items WHERE in_blob_store = 1")
        .get() as { n: number };
      expectThat(
        rows.n === 0,
        `${rows.n} item row(s) point into a blob dir that could not be written`,
      );
      const checkpoints = saver.db.prepare("SELECT count(*) AS n FROM lg_checkpoints").get() as {
        n: number;
      };
      expectThat(checkpoints.n === 0, "a checkpoint row was stored for the failed put");
    } finally {
      await saver.close();
    }
  });
}

async function fanOutDirsBlocked(root: string, recorder: ScenarioRecorder) {
  await recorder.check(
    "every fan-out dir is a file (blob write fails after earlier blobs)",
    async () => {
      const blobDir = join(root, "blocked-fan-out");
      const saver = LeanSqliteSaver.fromConnString(join(root, "blocked.sqlite"), {
        blobStore: createFsBlobStore({ dir: blobDir }),
      });
      try {
        await putBig(saver, "good", "g", 80 * 1024);
        const existing = new Set(await readdir(blobDir));
        for (let byte = 0; byte < 256; byte++) {
          const name = byte.toString(16).padStart(2, "0");
          if (!existing.has(name)) await writeFile(join(blobDir, name), "blocked");
        }
        await expectTypedFailure(() => putBig(saver, "failed", "f", 90 * 1024), [writeFailed], "");
        await expectNothingDangling(saver, "failed", ["good"]);
      } finally {
        await saver.close();
      }
    },
  );
}

function tryMountTmpfs(dir: string, sizeKb: number): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], {
      stdio: "pipe",
    });
    return undefined;
  } catch (error) {
    return (error as Error).message.split("\n")[0];
  }
}

async function diskFull(root: string, recorder: ScenarioRecorder) {
  const blobDir = join(root, "tiny-disk");
  await mkdir(blobDir);
  const mountProblem = tryMountTmpfs(blobDir, 512);
  if (mountProblem) {
    recorder.note(`full disk not simulated: cannot mount a 512 KB tmpfs (${mountProblem})`);
    return;
  }
  try {
    await recorder.check("blob dir on a 512 KB tmpfs fills up (ENOSPC)", async () => {
      const saver = LeanSqliteSaver.fromConnString(join(root, "full-disk.sqlite"), {
        blobStore: createFsBlobStore({ dir: blobDir }),
      });
      try {
        const stored: string[] = [];
        let failure: unknown;
        for (let index = 0; index < 20 && failure === undefined; index++) {
          const threadId = `fill-${index}`;
          try {
            await putBig(saver, threadId, `v${index}-${"abcdefghij"[index % 10]}`, 100 * 1024);
            stored.push(threadId);
          } catch (error) {
            failure = error;
            expectThat(
              (error as { code?: string }).code === writeFailed,
              `disk full surfaced as ${(error as Error).message}`,
            );
            await expectNothingDangling(saver, threadId, stored);
          }
        }
        expectThat(
          failure !== undefined,
          "20 puts of 100 KB fitted in 512 KB: the disk never filled",
        );
        const leftovers = (await readdir(blobDir, { recursive: true }))
          .map(String)
          .filter((name) => name.endsWith(".tmp"));
        expectThat(
          leftovers.length === 0,
          `temp files left on the full disk: ${leftovers.join(", ")}`,
        );
        recorder.note(
          `full disk: ${stored.length} puts fitted, the next was refused with ${writeFailed}`,
        );
      } finally {
        await saver.close();
      }
    });
  } finally {
    execFileSync("umount", [blobDir], { stdio: "pipe" });
  }
}

/**
 * Blob writes that fail: a blob dir that is a file (root ignores chmod, so a file stands in for a
 * read-only dir), fan-out dirs that cannot be created, and a disk that fills up (a tiny tmpfs).
 * `put` must reject with ERR_LG_BLOB_WRITE_FAILED and no row may reference a missing blob.
 */
export async function runWriteFailureScenario(): Promise<ScenarioResult> {
  const recorder = new ScenarioRecorder(
    "write-failures",
    "Blob writes that fail (not a dir, blocked fan-out, disk full): put rejects, no dangling row",
  );
  const root = await mkdtemp(join(tmpdir(), "lg-rel-write-fail-"));
  try {
    await blobDirIsAFile(root, recorder);
    await fanOutDirsBlocked(root, recorder);
    await diskFull(root, recorder);
    return recorder.finish();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
