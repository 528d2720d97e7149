import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SerdeErrorCode } from "@leangraph/serde";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CliErrorCode } from "../src/errors.js";
import { ExitCode } from "../src/exit-codes.js";
import { buildLeanSqlite } from "./fixtures/lean-databases.js";
import { leangraph } from "./fixtures/run-in-process.js";
import { makeTempDir } from "./helpers.js";

const temp = makeTempDir("rekey");
const path = join(temp.dir, "lean.sqlite");
const ring = (...ids: string[]) =>
  ids.map((id) => `${id}:${keys.get(id)!.toString("base64")}`).join(",");
const keys = new Map([
  ["k1", randomBytes(32)],
  ["k2", randomBytes(32)],
]);

/** Every item id in the file, read by a fresh connection (SQLite stores them as their 32 bytes). */
function itemIds(): Set<string> {
  const db = new Database(path, { readonly: true });
  try {
    return new Set(db.prepare("SELECT lower(hex(id)) FROM lg_items").pluck().all() as string[]);
  } finally {
    db.close();
  }
}

beforeAll(() => buildLeanSqlite(path));
afterAll(() => temp.remove());
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("leangraph rekey", () => {
  it("moves a plaintext lean database to encryption, then to a new key after rotation", async () => {
    const plainVerify = await leangraph("verify", path, "--json");
    expect(plainVerify.json.ok).toBe(true);
    const idsBefore = itemIds();
    expect(idsBefore.size).toBeGreaterThan(0);

    const noKeys = await leangraph("rekey", path, "--json");
    expect(noKeys.code).toBe(ExitCode.usage);
    expect(noKeys.json.error.code).toBe(CliErrorCode.usage);

    vi.stubEnv("LG_ENCRYPTION_KEYS", ring("k1"));
    // Plaintext is adopted only when asked: a planted row must never be sealed silently.
    const refused = await leangraph("rekey", path, "--json");
    expect(refused.code).toBe(ExitCode.failed);
    expect(refused.json.error.code).toBe(SerdeErrorCode.notEncrypted);

    const adopted = await leangraph("rekey", path, "--adopt-plaintext", "--json");
    expect(adopted.code, adopted.stdout).toBe(ExitCode.ok);
    expect(adopted.json.keyId).toBe("k1");
    expect(adopted.json.threadsResealed).toBe(adopted.json.threads);
    expect(adopted.json.threads).toBeGreaterThan(0);
    const sealedVerify = await leangraph("verify", path, "--json");
    expect(sealedVerify.json.ok).toBe(true);
    expect(sealedVerify.json.checkpoints).toBe(plainVerify.json.checkpoints);
    // Nothing renamed: ids adopted from plaintext stay the sha256 ids they were.
    expect(itemIds()).toEqual(idsBefore);

    vi.stubEnv("LG_ENCRYPTION_KEYS", ring("k2", "k1"));
    const rotated = await leangraph("rekey", path, "--json");
    expect(rotated.code).toBe(ExitCode.ok);
    expect(rotated.json.keyId).toBe("k2");
    expect(rotated.json.threadsResealed).toBe(rotated.json.threads);
    const again = await leangraph("rekey", path, "--json");
    expect(again.json.threadsResealed + again.json.itemsResealed).toBe(0);
    // Rotation re-seals bodies under k2 and renames nothing either.
    expect(itemIds()).toEqual(idsBefore);

    vi.stubEnv("LG_ENCRYPTION_KEYS", ring("k2"));
    const afterRotation = await leangraph("verify", path, "--json");
    expect(afterRotation.json.ok).toBe(true);
    expect(afterRotation.json.checkpoints).toBe(plainVerify.json.checkpoints);

    vi.stubEnv("LG_ENCRYPTION_KEYS", ring("k1"));
    // Without the current key nothing reads: the run stops at the first row, naming the key.
    const oldKeyOnly = await leangraph("verify", path, "--json");
    expect(oldKeyOnly.code).toBe(ExitCode.failed);
    expect(oldKeyOnly.json.error.code).toBe(SerdeErrorCode.encryptionKeyMissing);
    expect(oldKeyOnly.json.error.message).toContain('"k2"');
  });

  it("refuses a malformed key naming its id, never printing the key", async () => {
    const short = randomBytes(16).toString("base64");
    vi.stubEnv("LG_ENCRYPTION_KEYS", `good:${keys.get("k1")!.toString("base64")},short:${short}`);
    const run = await leangraph("rekey", path, "--json");
    expect(run.code).toBe(ExitCode.usage);
    expect(run.json.error.code).toBe(CliErrorCode.invalidOption);
    expect(run.json.error.message).toContain('key "short" must be 32 bytes');
    for (const secret of [short, keys.get("k1")!.toString("base64")]) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  });
});
