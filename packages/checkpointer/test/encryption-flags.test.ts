import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SerdeErrorCode } from "@leangraph/serde";
import { afterAll, describe, expect, it } from "vitest";
import {
  CheckpointerErrorCode,
  checkpointerFlagsFromEnv,
  createCheckpointer,
} from "../src/index.js";
import { buildChatGraph, chat } from "./fixtures/chat-graph.js";
import { makeTempDir } from "./helpers.js";

const temp = makeTempDir("encryption-flags");
afterAll(() => temp.remove());
const key = randomBytes(32).toString("base64");

function errorOf(run: () => unknown): { code?: string; message?: string; cause?: unknown } {
  try {
    run();
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  return {};
}

describe("LG_ENCRYPTION_KEYS", () => {
  it("is validated at start: a short key is named by its id, and no key is ever shown", () => {
    const short = randomBytes(24).toString("base64");
    const error = errorOf(() =>
      checkpointerFlagsFromEnv({ LG_ENCRYPTION_KEYS: `new:${short},old:${key}` }),
    );
    expect(error.code).toBe(CheckpointerErrorCode.invalidOption);
    expect(error.message).toContain("LG_ENCRYPTION_KEYS");
    expect(error.message).toContain('key "new" must be 32 bytes');
    expect(`${error.message}${JSON.stringify(error)}${String(error.cause)}`).not.toContain(short);
    expect(error.message).not.toContain(key);
    expect(
      errorOf(() =>
        checkpointerFlagsFromEnv({ LG_ENCRYPTION_KEYS: `k:${key}`, LG_CHECKPOINTER: "memory" }),
      ).code,
    ).toBe(CheckpointerErrorCode.invalidOption);
  });

  it("makes createCheckpointer's SQLite saver encrypt; the same file without the flag is refused", async () => {
    const path = join(temp.dir, "flag.sqlite");
    const env = { LG_SQLITE_PATH: path, LG_ENCRYPTION_KEYS: `k1:${key}` };
    const saver = await createCheckpointer({ env });
    await chat(buildChatGraph(saver), "flagged", 2);
    await saver.close();
    expect(readFileSync(path).toString("latin1")).not.toContain("question 1");
    const reopened = await createCheckpointer({ env });
    const state = await buildChatGraph(reopened).getState({
      configurable: { thread_id: "flagged" },
    });
    expect(JSON.stringify(state.values)).toContain("question 1");
    await reopened.close();
    const plain = await createCheckpointer({ env: { LG_SQLITE_PATH: path } });
    await expect(plain.getTuple({ configurable: { thread_id: "flagged" } })).rejects.toMatchObject({
      code: SerdeErrorCode.encryptionKeyMissing,
    });
    await plain.close();
  });

  it("takes an async key provider as createCheckpointer's encryptionKeys option", async () => {
    const path = join(temp.dir, "provider.sqlite");
    const saver = await createCheckpointer({
      env: { LG_SQLITE_PATH: path },
      encryptionKeys: async () => `kms:${key}`,
    });
    await chat(buildChatGraph(saver), "provided", 1);
    await saver.close();
    const reopened = await createCheckpointer({
      env: { LG_SQLITE_PATH: path, LG_ENCRYPTION_KEYS: `kms:${key}` },
    });
    expect(await reopened.getTuple({ configurable: { thread_id: "provided" } })).toBeDefined();
    await reopened.close();
  });
});
