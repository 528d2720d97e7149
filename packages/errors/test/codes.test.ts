import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CheckpointerErrorCode,
  errorCodesByPackage,
  LeangraphError,
  SerdeErrorCode,
  SharedErrorCode,
  WorkersErrorCode,
} from "../src/index.js";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

describe("error codes", () => {
  it("gives every code one meaning: no two names share a string unless it is a shared code", () => {
    const nameByCode = new Map<string, { group: string; name: string }>();
    const shared = new Set<string>(Object.values(SharedErrorCode));
    for (const [group, codes] of Object.entries(errorCodesByPackage)) {
      for (const [name, code] of Object.entries(codes)) {
        expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
        if (shared.has(code) && group !== "shared") continue;
        const first = nameByCode.get(code);
        expect(first, `${group}.${name} reuses ${code}`).toBeUndefined();
        nameByCode.set(code, { group, name });
      }
    }
  });

  it("lists the CLI's codes among the groups the uniqueness check covers", () => {
    expect(errorCodesByPackage.cli.usage).toBe("ERR_LG_CLI_USAGE");
    expect(Object.values(errorCodesByPackage)).toContain(errorCodesByPackage.cli);
  });

  it("keeps the published strings (callers switch on them)", () => {
    expect(SerdeErrorCode.invalidOption).toBe("ERR_LG_INVALID_OPTION");
    expect(CheckpointerErrorCode.invalidOption).toBe(SharedErrorCode.invalidOption);
    expect(WorkersErrorCode.invalidOption).toBe(SharedErrorCode.invalidOption);
    expect(SerdeErrorCode.blobMissing).toBe("ERR_LG_BLOB_MISSING");
    expect(CheckpointerErrorCode.itemCorrupt).toBe("ERR_LG_CHECKPOINT_ITEM_CORRUPT");
    expect(WorkersErrorCode.outOfMemory).toBe("ERR_WORKER_OUT_OF_MEMORY");
    expect(SerdeErrorCode.notEncrypted).toBe("ERR_LG_ENCRYPTION_NOT_ENCRYPTED");
    expect(SerdeErrorCode.encryptionKeyMissing).toBe("ERR_LG_ENCRYPTION_KEY_MISSING");
    expect(SerdeErrorCode.decryptionFailed).toBe("ERR_LG_ENCRYPTION_DECRYPT_FAILED");
  });

  it("is declared only here: no package or app source spells out a code of its own", () => {
    const sourceDirs = ["packages", "apps"].flatMap((group) =>
      readdirSync(join(repoRoot, group)).map((name) => join(repoRoot, group, name, "src")),
    );
    const ownDir = join(repoRoot, "packages", "errors", "src");
    const offenders: string[] = [];
    const visit = (path: string) => {
      if (statSync(path, { throwIfNoEntry: false }) === undefined) return;
      if (statSync(path).isDirectory()) {
        for (const name of readdirSync(path)) visit(join(path, name));
        return;
      }
      if (!/\.(ts|mts|cts|js|mjs)$/.test(path)) return;
      const lines = readFileSync(path, "utf8").split("\n");
      lines.forEach((line, index) => {
        const comment = /^\s*(\*|\/\*|\/\/)/.test(line);
        if (!comment && /["'`]ERR_LG_[A-Z0-9_]+["'`]/.test(line)) {
          offenders.push(`${relative(repoRoot, path)}:${index + 1}: ${line.trim()}`);
        }
      });
    };
    // The reliability app spells codes out on purpose: it checks what users see, string for string.
    for (const dir of sourceDirs) {
      if (dir === ownDir || dir.includes(join("apps", "reliability"))) continue;
      visit(dir);
    }
    expect(offenders).toEqual([]);
  });
});

describe("LeangraphError", () => {
  it("carries code, cause and hint, and is an Error", () => {
    const cause = new Error("disk full");
    const error = new LeangraphError(SerdeErrorCode.blobWriteFailed, "could not write", {
      cause,
      hint: "free some space",
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(LeangraphError);
    expect(error).toMatchObject({
      name: "LeangraphError",
      code: "ERR_LG_BLOB_WRITE_FAILED",
      message: "could not write",
      hint: "free some space",
    });
    expect(error.cause).toBe(cause);
    expect(new LeangraphError(SerdeErrorCode.blobMissing, "gone").cause).toBeUndefined();
  });

  it("keeps subclasses apart: a subclass instance is a LeangraphError, not the other way round", () => {
    class StepLikeError extends LeangraphError {}
    const step = new StepLikeError(WorkersErrorCode.failed, "step failed");
    expect(step).toBeInstanceOf(LeangraphError);
    expect(new LeangraphError(WorkersErrorCode.failed, "x")).not.toBeInstanceOf(StepLikeError);
  });
});
