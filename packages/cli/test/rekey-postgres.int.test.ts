import { randomBytes } from "node:crypto";
import { LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { SerdeErrorCode } from "@leangraph/serde";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { runAppendWorkload } from "../../checkpointer/test/fixtures/append-workload.js";
import { buildChatGraph, chat } from "../../checkpointer/test/fixtures/chat-graph.js";
import { CliErrorCode } from "../src/errors.js";
import { ExitCode } from "../src/exit-codes.js";
import { normalized } from "./fixtures/compare-savers.js";
import { jsonOf, runLeangraph } from "./helpers.js";

const unavailable = await postgresOrSkip("the Postgres rekey CLI test");

const keys = new Map([
  ["k1", randomBytes(32)],
  ["k2", randomBytes(32)],
]);
const ring = (...ids: string[]) =>
  ids.map((id) => `${id}:${keys.get(id)!.toString("base64")}`).join(",");
const threads = ["append", "chat"];

describe.skipIf(unavailable !== undefined)("leangraph rekey on Postgres", () => {
  const pool = new pg.Pool({ connectionString: postgresUrl });
  const schema = uniqueSchema("cli_rekey");
  afterAll(async () => {
    await dropSchema(schema, pool);
    await pool.end();
  });

  /** The saver's own Postgres blob store, compressed, sealed when given keys (as the CLI opens it). */
  const saverWith = (encryptionKeys?: string) =>
    new LeanPostgresSaver(pool, { schema, encryptionKeys });
  const tuplesOf = async (saver: LeanPostgresSaver) => {
    const tuples: unknown[] = [];
    for (const threadId of threads)
      for await (const tuple of saver.list({ configurable: { thread_id: threadId } }))
        tuples.push(normalized(tuple));
    return tuples;
  };
  const itemIds = async () =>
    new Set(
      (await pool.query<{ id: string }>(`SELECT id FROM "${schema}".lg_items`)).rows.map(
        (row) => row.id,
      ),
    );
  const rekey = (keyRing: string | undefined, ...flags: string[]) =>
    runLeangraph(["rekey", postgresUrl, "--schema", schema, ...flags, "--json"], {
      env: { LG_ENCRYPTION_KEYS: keyRing },
    });
  const verify = (keyRing: string) =>
    runLeangraph(["verify", postgresUrl, "--schema", schema, "--json"], {
      env: { LG_ENCRYPTION_KEYS: keyRing },
    });

  it("adopts a plaintext database (its sha256 ids kept), rotates, and reads everything with the new key alone", async () => {
    const plain = saverWith();
    // 100 KB files: their items live in the Postgres blob table; the chat's in lg_items.
    await runAppendWorkload(plain, { steps: 3, fileBytes: 100_000, threadId: "append" });
    await chat(buildChatGraph(plain), "chat", 3);
    const before = await tuplesOf(plain);
    const idsBefore = await itemIds();

    const noKeys = await rekey(undefined);
    expect(noKeys.code).toBe(ExitCode.usage);
    expect(jsonOf(noKeys).error.code).toBe(CliErrorCode.usage);
    const refused = await rekey(ring("k1"));
    expect(refused.code).toBe(ExitCode.failed);
    expect(jsonOf(refused).error.code).toBe(SerdeErrorCode.notEncrypted);

    const adopted = await rekey(ring("k1"), "--adopt-plaintext");
    expect(adopted.code, adopted.stderr).toBe(ExitCode.ok);
    const adoption = jsonOf(adopted);
    expect(adoption).toMatchObject({ keyId: "k1" });
    expect(adoption.threadsResealed).toBe(adoption.threads);
    expect(adoption.itemsResealed).toBeGreaterThan(0);
    expect(adoption.blobsResealed).toBeGreaterThan(0);
    // Nothing renamed: ids adopted from plaintext stay sha256 (those bytes were in the clear).
    expect(await itemIds()).toEqual(idsBefore);
    expect(jsonOf(await verify(ring("k1")))).toMatchObject({ ok: true, damage: [] });

    // Written again under k1: the same content gets keyed ids, stored beside the adopted ones.
    const underK1 = saverWith(ring("k1"));
    expect(await tuplesOf(underK1)).toEqual(before);
    await runAppendWorkload(underK1, { steps: 1, fileBytes: 100_000, threadId: "again" });
    const idsUnderK1 = await itemIds();
    expect(idsUnderK1.size).toBeGreaterThan(idsBefore.size);

    const rotated = await rekey(ring("k2", "k1"));
    expect(rotated.code, rotated.stderr).toBe(ExitCode.ok);
    expect(jsonOf(rotated)).toMatchObject({ keyId: "k2" });
    expect(jsonOf(rotated).threadsResealed).toBe(jsonOf(rotated).threads);
    const again = jsonOf(await rekey(ring("k2", "k1")));
    expect(again.threadsResealed + again.itemsResealed + again.blobsResealed).toBe(0);
    expect(await itemIds()).toEqual(idsUnderK1);

    // k1 dropped: every id (sha256 adopted, keyed under k1) still reads, proven by its envelope.
    expect(jsonOf(await verify(ring("k2")))).toMatchObject({ ok: true, damage: [] });
    const onlyK2 = saverWith(ring("k2"));
    expect(await tuplesOf(onlyK2)).toEqual(before);
    const oldKeyOnly = await verify(ring("k1"));
    expect(oldKeyOnly.code).toBe(ExitCode.failed);
    expect(jsonOf(oldKeyOnly).error.code).toBe(SerdeErrorCode.encryptionKeyMissing);
    for (const saver of [plain, underK1, onlyK2]) await saver.close();
  });
});
