import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { checkpointerFlagsFromEnv } from "@leangraph/checkpointer";
import { DemoErrorCode, LeangraphError } from "../errors.js";
import { checkpointerPaths } from "../runtime/checkpointer.js";

/** A directory the run will create or write into, and the setting it came from. */
interface PlannedDirectory {
  dir: string;
  /** `LG_BLOB_DIR`, `--run-dir`, …: what the user changes to fix it. */
  setting: string;
  /** The setting's value as the user gave it (a file path for LG_SQLITE_PATH). */
  value: string;
  accepted: string;
}

/**
 * Checks, before the run creates anything, that every directory it will write to exists or can
 * be created. Without this a bad LG_BLOB_DIR only failed after checkpoints.sqlite was created,
 * and a bad LG_SQLITE_PATH failed with a bare `EEXIST: mkdir` that named neither the variable
 * nor what to do. Nothing is created here: the check only stats and probes for write access.
 */
export async function assertRunPathsUsable(options: {
  env: NodeJS.ProcessEnv;
  runDir: string;
}): Promise<void> {
  // Also rejects a bad LG_CHECKPOINTER or serde flag here, before the run dir exists.
  const flags = checkpointerFlagsFromEnv({ ...options.env, ...checkpointerPaths(options) });
  const planned: PlannedDirectory[] = [
    {
      dir: options.runDir,
      setting: "--run-dir",
      value: options.runDir,
      accepted: "a directory that exists or can be created",
    },
  ];
  const userSqlitePath = Boolean(options.env.LG_SQLITE_PATH);
  if (flags.backend === "sqlite") {
    planned.push({
      dir: dirname(resolve(flags.sqlitePath)),
      setting: userSqlitePath ? "LG_SQLITE_PATH" : "--run-dir",
      value: userSqlitePath ? flags.sqlitePath : options.runDir,
      accepted: "a file path whose directory exists or can be created",
    });
  }
  if (flags.blobStore === "fs" && flags.blobDir !== undefined) {
    const userBlobDir = Boolean(options.env.LG_BLOB_DIR);
    planned.push({
      dir: flags.blobDir,
      setting: userBlobDir ? "LG_BLOB_DIR" : "--run-dir",
      value: userBlobDir ? flags.blobDir : options.runDir,
      accepted: "a directory that exists or can be created",
    });
  }
  for (const directory of planned) await assertDirectoryCreatable(directory);
}

async function assertDirectoryCreatable(directory: PlannedDirectory): Promise<void> {
  const target = resolve(directory.dir);
  let current = target;
  for (;;) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => {
      // ENOTDIR: a component above `current` is a file; keep walking up to find it.
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw unusable(directory, `${current} cannot be read (${error.code})`, error);
    });
    if (info) {
      if (!info.isDirectory()) {
        const problem =
          current === target
            ? `${current} is a file, not a directory`
            : `${current} is a file, so no directory can be created below it`;
        throw unusable(directory, problem);
      }
      try {
        await access(current, constants.W_OK | constants.X_OK);
      } catch (error) {
        throw unusable(directory, `${current} is not writable`, error);
      }
      return;
    }
    const parent = dirname(current);
    // The root always exists; reaching it without a stat result means it cannot be read.
    if (parent === current) throw unusable(directory, `no existing parent of ${target}`);
    current = parent;
  }
}

function unusable(directory: PlannedDirectory, problem: string, cause?: unknown): LeangraphError {
  return new LeangraphError(
    DemoErrorCode.unusablePath,
    `${directory.setting}=${JSON.stringify(directory.value)} cannot be used: ${problem}. Accepted: ${directory.accepted}.`,
    {
      ...(cause === undefined ? {} : { cause }),
      hint:
        directory.setting === "--run-dir"
          ? "choose a --run-dir you can write to"
          : `unset ${directory.setting} to keep it in the run dir, or point it at a path you can write to`,
    },
  );
}
