import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph-checkpoint";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { RedactingSerializer } from "@leangraph/serde";
import { afterAll, describe, expect, it } from "vitest";
import { checkpointerFlagsFromEnv, createCheckpointer } from "../src/index.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { buildChatGraph, chat } from "./fixtures/chat-graph.js";
import { makeTempDir } from "./helpers.js";

const temp = makeTempDir("create");
afterAll(() => temp.remove());

function codeOf(run: () => unknown): { code?: string; message?: string } {
  try {
    run();
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  return {};
}

describe("createCheckpointer", () => {
  it("defaults to a LeanSqliteSaver whose RedactingSerializer shares the saver's blob store", async () => {
    const path = join(temp.dir, "default", "checkpoints.sqlite");
    const saver = await createCheckpointer({ env: { LG_SQLITE_PATH: path } });
    try {
      expect(saver).toBeInstanceOf(LeanSqliteSaver);
      expect(saver.serde).toBeInstanceOf(RedactingSerializer);
      expect((saver.serde as RedactingSerializer).blobStore).toBe(
        (saver as LeanSqliteSaver).blobStore,
      );
      const graph = buildChatGraph(saver);
      const config = await chat(graph, "t", 3);
      expect((await graph.getState(config)).values.messages).toHaveLength(6);
      const stats = await saver.storageStats();
      expect(stats.checkpointCount).toBeGreaterThan(0);
      expect(stats.dbBytes).toBeGreaterThan(0);
    } finally {
      await saver.close();
    }
  });

  it("hands out the stock SqliteSaver with LG_REDACTING_SERDE=off, still measurable", async () => {
    const path = join(temp.dir, "stock", "checkpoints.sqlite");
    const saver = await createCheckpointer({
      env: { LG_SQLITE_PATH: path, LG_REDACTING_SERDE: "off" },
    });
    try {
      expect(saver).toBeInstanceOf(SqliteSaver);
      expect(saver).not.toBeInstanceOf(LeanSqliteSaver);
      const graph = buildChatGraph(saver);
      await chat(graph, "t", 2);
      const stats = await saver.storageStats();
      expect(stats.checkpointCount).toBe(6);
      expect(stats.largestCheckpointRowBytes).toBeGreaterThan(0);
    } finally {
      await saver.close();
    }
  });

  it("builds a MemorySaver for LG_CHECKPOINTER=memory, redacting unless switched off", async () => {
    const lean = await createCheckpointer({ env: { LG_CHECKPOINTER: "memory" } });
    expect(lean).toBeInstanceOf(MemorySaver);
    expect(lean.serde).toBeInstanceOf(RedactingSerializer);
    const graph = buildChatGraph(lean);
    await chat(graph, "t", 1);
    expect((await lean.storageStats()).checkpointCount).toBe(3);
    const stock = await createCheckpointer({
      env: { LG_CHECKPOINTER: "memory", LG_REDACTING_SERDE: "off" },
    });
    expect(stock.serde).not.toBeInstanceOf(RedactingSerializer);
  });
});

describe("LG_* flags", () => {
  it("documents its defaults", () => {
    expect(checkpointerFlagsFromEnv({})).toEqual({
      backend: "sqlite",
      sqlitePath: ".lg/checkpoints.sqlite",
      postgresUrl: undefined,
      postgresSchema: "public",
      blobDir: undefined,
      blobStore: "fs",
      redacting: true,
      compression: { codec: "auto", level: undefined },
    });
    expect(
      checkpointerFlagsFromEnv({
        LG_CHECKPOINTER: "postgres",
        LG_POSTGRES_URL: "postgres://x@h/db",
      }).blobStore,
    ).toBe("postgres");
  });

  it.each([
    [{ LG_CHECKPOINTER: "mysql" }, "LG_CHECKPOINTER", "sqlite, postgres, memory"],
    [{ LG_CHECKPOINTER: "postgres" }, "LG_POSTGRES_URL", "required when LG_CHECKPOINTER=postgres"],
    [
      { LG_CHECKPOINTER: "postgres", LG_POSTGRES_URL: "mysql://h/db" },
      "LG_POSTGRES_URL",
      "postgres://",
    ],
    [{ LG_BLOB_STORE: "s3" }, "LG_BLOB_STORE", "fs or postgres"],
    [{ LG_BLOB_STORE: "postgres" }, "LG_BLOB_STORE", "needs LG_CHECKPOINTER=postgres"],
    [{ LG_POSTGRES_SCHEMA: "a; DROP TABLE x" }, "LG_POSTGRES_SCHEMA", "plain identifier"],
    [{ LG_REDACTING_SERDE: "maybe" }, "LG_REDACTING_SERDE", "on or off"],
    [{ LG_MAX_STRING_SIZE: "abc" }, "LG_MAX_STRING_SIZE", "byte size"],
  ])("rejects %o naming %s", async (env, variable, accepted) => {
    const error = codeOf(() => checkpointerFlagsFromEnv(env as NodeJS.ProcessEnv));
    expect(error.code).toBe("ERR_LG_INVALID_OPTION");
    expect(error.message).toContain(variable);
    expect(error.message).toContain(accepted);
    await expect(createCheckpointer({ env: env as NodeJS.ProcessEnv })).rejects.toMatchObject({
      code: "ERR_LG_INVALID_OPTION",
    });
  });

  it("treats empty variables as unset", () => {
    expect(checkpointerFlagsFromEnv({ LG_CHECKPOINTER: "", LG_BLOB_DIR: "" }).backend).toBe(
      "sqlite",
    );
  });
});
