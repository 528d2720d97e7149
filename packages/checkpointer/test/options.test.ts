import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { LeangraphError } from "@leangraph/errors";
import { createMemoryBlobStore } from "@leangraph/serde";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createCheckpointer } from "../src/index.js";
import { optionalPeerRanges, requireOptionalPeers } from "../src/optional-peers.js";
import { createPostgresBlobStore, LeanPostgresSaver } from "../src/postgres.js";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { makeTempDir } from "./helpers.js";

const temp = makeTempDir("options");
// Building a pg Pool opens no connection, so these checks need no server.
const pool = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
afterAll(async () => {
  await pool.end();
  temp.remove();
});

function rejection(build: () => unknown): LeangraphError {
  try {
    build();
  } catch (error) {
    if (error instanceof LeangraphError) return error;
    throw error;
  }
  throw new Error("expected ERR_LG_INVALID_OPTION, nothing was thrown");
}

describe("LeanSqliteSaver options are validated at the edge", () => {
  it("names every bad option, the value received and what is accepted", () => {
    const db = new Database(":memory:");
    const error = rejection(
      () =>
        new LeanSqliteSaver(db, {
          busyTimeoutMs: "x",
          orphanGraceMs: -5,
          codec: { blobMinBytes: -1 },
          itemCacheBytes: 2.5,
        } as never),
    );
    expect(error.code).toBe("ERR_LG_INVALID_OPTION");
    expect(error.message).toContain("new LeanSqliteSaver(db, options)");
    expect(error.message).toContain('busyTimeoutMs="x" is not accepted: expected a whole number');
    expect(error.message).toContain("orphanGraceMs=-5 is not accepted: expected a whole number");
    expect(error.message).toContain("codec.blobMinBytes=-1 is not accepted");
    expect(error.message).toContain("itemCacheBytes=2.5 is not accepted: expected a whole number");
    db.close();
  });

  it("takes every codec field its type offers, tree fields one by one, and keeps values exact", async () => {
    const saver = new LeanSqliteSaver(new Database(":memory:"), {
      codec: { keyedTreeMinEntries: 2, tree: { maxLeafEntries: 2 } },
    });
    const files = { a: "1", b: "2", c: "3", d: "4", e: "5" };
    const config = await saver.put(
      { configurable: { thread_id: "codec", checkpoint_ns: "" } },
      {
        v: 4,
        id: "1ef00000-0000-6000-8000-000000000001",
        ts: new Date(0).toISOString(),
        channel_values: { files },
        channel_versions: { files: 1 },
        versions_seen: {},
      },
      { source: "input", step: -1, parents: {} },
      { files: 1 },
    );
    expect((await saver.getTuple(config))?.checkpoint.channel_values).toEqual({ files });
    const error = rejection(
      () => new LeanSqliteSaver(new Database(":memory:"), { codec: { keyedTreeMinEntries: 0 } }),
    );
    expect(error.message).toContain("codec.keyedTreeMinEntries=0 is not accepted");
    await saver.close();
  });

  it("refuses an unknown option (a typo is never silently ignored)", () => {
    const db = new Database(":memory:");
    for (const [options, named] of [
      [{ busyTimeout: 100 }, "busyTimeout=100 is not an option"],
      [{ codec: { tree: { maxLeafEntry: 4 } } }, "codec.tree.maxLeafEntry=4 is not an option"],
      [{ schema: "public" }, 'schema="public" is not an option'],
    ] as const) {
      const error = rejection(() => new LeanSqliteSaver(db, options as never));
      expect(error.code).toBe("ERR_LG_INVALID_OPTION");
      expect(error.message).toContain(named);
    }
    db.close();
  });

  it("rejects something that is not a better-sqlite3 Database, pointing at fromConnString", () => {
    const error = rejection(() => new LeanSqliteSaver("checkpoints.db" as never));
    expect(error.code).toBe("ERR_LG_INVALID_OPTION");
    expect(error.message).toContain('db="checkpoints.db" is not accepted');
    expect(error.message).toContain("LeanSqliteSaver.fromConnString(path)");
  });

  it("fromConnString refuses bad options before it creates the database file", () => {
    const path = join(temp.dir, "never", "checkpoints.sqlite");
    const error = rejection(() =>
      LeanSqliteSaver.fromConnString(path, { serde: { dumpsTyped: 1 } } as never),
    );
    expect(error.code).toBe("ERR_LG_INVALID_OPTION");
    expect(error.message).toContain("serde=");
    expect(existsSync(join(temp.dir, "never"))).toBe(false);
    expect(rejection(() => LeanSqliteSaver.fromConnString("")).message).toContain('path=""');
  });

  it("checks the retention policy's fields too: a misspelt one or a zero sweep interval", () => {
    const db = new Database(":memory:");
    expect(
      rejection(
        () => new LeanSqliteSaver(db, { retention: { keepLast: 5, maxAge: 1000 } } as never),
      ).message,
    ).toContain("retention.maxAge=1000 is not an option");
    expect(
      rejection(() => new LeanSqliteSaver(db, { retention: { keepLast: 5, sweepIntervalMs: 0 } }))
        .message,
    ).toContain("retention.sweepIntervalMs=0 is not accepted");
    db.close();
  });

  it("accepts every documented option", () => {
    const saver = LeanSqliteSaver.fromConnString(":memory:", {
      blobStore: createMemoryBlobStore(),
      busyTimeoutMs: 0,
      orphanGraceMs: 0,
      codec: {
        inlineElementMaxBytes: 64,
        inlineValueMaxBytes: 0,
        blobMinBytes: 1,
        tree: { maxLeafEntries: 1, maxLeafBytes: 1, maxInnerChildren: 2 },
      },
    });
    saver.db.close();
  });
});

describe("Postgres options are validated at the edge", () => {
  it("LeanPostgresSaver names a bad schema, a bad option value and an unknown option", () => {
    const error = rejection(
      () => new LeanPostgresSaver(pool, { schema: "a; DROP TABLE x", orphanGraceMs: 1.5 }),
    );
    expect(error.code).toBe("ERR_LG_INVALID_OPTION");
    expect(error.message).toContain('schema="a; DROP TABLE x" is not accepted');
    expect(error.message).toContain("orphanGraceMs=1.5 is not accepted");
    expect(
      rejection(() => new LeanPostgresSaver(pool, { busyTimeoutMs: 5 } as never)).message,
    ).toContain("busyTimeoutMs=5 is not an option");
    expect(rejection(() => new LeanPostgresSaver({} as never)).message).toContain(
      "pool={} is not accepted: expected a pg Pool",
    );
  });

  it("fromConnString checks the URL and the options before it creates a pool", () => {
    expect(rejection(() => LeanPostgresSaver.fromConnString(42 as never)).message).toContain(
      "connectionString=42",
    );
    expect(
      rejection(() => LeanPostgresSaver.fromConnString("postgres://x@h/db", { schema: "" }))
        .message,
    ).toContain('schema="" is not accepted');
  });

  it("createPostgresBlobStore refuses pool and connectionString together, and unknown options", () => {
    expect(
      rejection(() => createPostgresBlobStore({ pool, connectionString: "postgres://x@h/db" }))
        .message,
    ).toContain("either pool or connectionString, not both");
    expect(
      rejection(() => createPostgresBlobStore({ pool, chunkSize: 10 } as never)).message,
    ).toContain("chunkSize=10 is not an option");
  });
});

describe("createCheckpointer options", () => {
  it("refuses an unknown option and an env that is not one, before opening anything", async () => {
    await expect(createCheckpointer({ environment: {} } as never)).rejects.toMatchObject({
      code: "ERR_LG_INVALID_OPTION",
      message: expect.stringContaining("environment={} is not an option"),
    });
    await expect(
      createCheckpointer({ env: "LG_CHECKPOINTER=memory" } as never),
    ).rejects.toMatchObject({
      code: "ERR_LG_INVALID_OPTION",
      message: expect.stringContaining('env="LG_CHECKPOINTER=memory" is not accepted'),
    });
  });

  it("accepts process.env itself, the way the README and the reliability children pass it", async () => {
    // process.env is no plain object (a zod record refuses it): this once failed every such call.
    const previous = process.env.LG_CHECKPOINTER;
    process.env.LG_CHECKPOINTER = "memory";
    try {
      const saver = await createCheckpointer({ env: process.env });
      expect(saver).toBeInstanceOf(MemorySaver);
    } finally {
      if (previous === undefined) delete process.env.LG_CHECKPOINTER;
      else process.env.LG_CHECKPOINTER = previous;
    }
    await expect(
      createCheckpointer({ env: { LG_CHECKPOINTER: 1 } } as never),
    ).rejects.toMatchObject({
      code: "ERR_LG_INVALID_OPTION",
    });
  });
});

describe("optional peer dependencies", () => {
  it("names every missing package and how to install it, in one coded error", async () => {
    const error = await requireOptionalPeers("LG_CHECKPOINTER=test", [
      "pg",
      "@leangraph/no-such-driver",
      "no-such-driver-either",
    ]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LeangraphError);
    expect(error).toMatchObject({ code: "ERR_LG_DRIVER_MISSING" });
    const { message, hint } = error as LeangraphError;
    expect(message).toContain("@leangraph/no-such-driver and no-such-driver-either");
    expect(message).not.toContain("pg");
    expect(hint).toContain('npm install "@leangraph/no-such-driver@latest"');
  });

  it("resolves when every package is there", async () => {
    await expect(requireOptionalPeers("sqlite", ["better-sqlite3", "pg"])).resolves.toBeUndefined();
  });

  it("quotes the same ranges package.json declares", () => {
    const manifest = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, unknown>;
    };
    for (const [name, range] of Object.entries(optionalPeerRanges)) {
      expect(manifest.peerDependencies[name], name).toBe(range);
      expect(manifest.peerDependenciesMeta[name], name).toEqual({ optional: true });
    }
  });
});
