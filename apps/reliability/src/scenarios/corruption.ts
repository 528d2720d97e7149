import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { createFsBlobStore, RedactingSerializer } from "@leangraph/serde";
import {
  dropSchema,
  postgresUnavailableReason,
  postgresUrl,
  queryOnce,
  uniqueSchema,
} from "@leangraph/test-postgres";
import { putChain } from "../support/checkpoint-writer.js";
import { expectThat, ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { expectTypedFailure } from "../support/typed-failure.js";

const blobCorrupt = "ERR_LG_BLOB_CORRUPT";
const blobMissing = "ERR_LG_BLOB_MISSING";
const blobIdInvalid = "ERR_LG_BLOB_ID_INVALID";
const rowCorrupt = "ERR_LG_CHECKPOINT_ROW_CORRUPT";
const itemCorrupt = "ERR_LG_CHECKPOINT_ITEM_CORRUPT";
const itemMissing = "ERR_LG_CHECKPOINT_ITEM_MISSING";

/** A reference that, if it ever became a path, would read outside the blob store. */
const outsideReference = "../../../../etc/passwd";

interface Victim {
  saver: LeanSqliteSaver;
  blobDir: string;
  threadId: string;
  /** The checkpoint whose value is the blob (the 7th put). */
  blobCheckpointId: string;
  /** An earlier checkpoint that does not reference the blob: it must keep loading. */
  cleanCheckpointId: string;
  blobId: string;
}

/** A thread of 7 checkpoints; the last one's value (80 KB) is the only blob. */
async function makeVictim(root: string, name: string): Promise<Victim> {
  const blobDir = join(root, `${name}.blobs`);
  const saver = LeanSqliteSaver.fromConnString(join(root, `${name}.sqlite`), {
    blobStore: createFsBlobStore({ dir: blobDir }),
  });
  const ids = await putChain(saver, { threadId: name, puts: 7, label: name, clockSeq: 1 });
  const blobIds: string[] = [];
  for await (const id of saver.blobStore.list()) blobIds.push(id);
  expectThat(blobIds.length >= 1, `${name}: setup wrote no blob`);
  const [blobId] = (
    saver.db
      .prepare("SELECT lower(hex(id)) AS id FROM lg_items WHERE in_blob_store = 1")
      .all() as Array<{
      id: string;
    }>
  ).map((row) => row.id);
  expectThat(blobId !== undefined, `${name}: no item row in the blob store`);
  // Damage on disk is met by the next process that opens the files. The writer itself keeps the
  // bodies it wrote in its item cache (the right ones: ids are their hashes), so the victim is a
  // saver opened after the writes, as an agent restarting on a damaged disk would be.
  await saver.close();
  const reopened = LeanSqliteSaver.fromConnString(join(root, `${name}.sqlite`), {
    blobStore: createFsBlobStore({ dir: blobDir }),
  });
  return {
    saver: reopened,
    blobDir,
    threadId: name,
    blobCheckpointId: ids[6]!,
    cleanCheckpointId: ids[0]!,
    blobId: blobId!,
  };
}

function configOf(victim: Victim, checkpointId: string) {
  return {
    configurable: { thread_id: victim.threadId, checkpoint_ns: "", checkpoint_id: checkpointId },
  };
}

function blobPath(victim: Victim): string {
  return join(victim.blobDir, victim.blobId.slice(0, 2), victim.blobId.slice(2));
}

/** The damaged checkpoint fails by getTuple and by list; an untouched one still loads. */
async function expectLoadFails(victim: Victim, codes: string[], mustName: string): Promise<void> {
  await expectTypedFailure(
    () => victim.saver.getTuple(configOf(victim, victim.blobCheckpointId)),
    codes,
    mustName,
  );
  await expectTypedFailure(
    async () => {
      const values: unknown[] = [];
      for await (const tuple of victim.saver.list({
        configurable: { thread_id: victim.threadId },
      })) {
        values.push(tuple.checkpoint.channel_values.note);
      }
      return `${values.length} checkpoints listed`;
    },
    codes,
    mustName,
  );
  const clean = await victim.saver.getTuple(configOf(victim, victim.cleanCheckpointId));
  expectThat(
    clean?.checkpoint.channel_values.note === `${victim.threadId}:0:`,
    "an undamaged checkpoint of the same thread no longer loads its value",
  );
}

type Damage = { id: string; name: string; run: (victim: Victim) => Promise<void> };

/** Exported so a test can name them; each runs on a fresh database. */
export const damages: Damage[] = [
  {
    id: "blob-flip",
    name: "flip one byte in a blob file",
    async run(victim) {
      const bytes = await readFile(blobPath(victim));
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      await writeFile(blobPath(victim), bytes);
      await expectLoadFails(victim, [blobCorrupt], victim.blobId);
    },
  },
  {
    id: "blob-truncate",
    name: "truncate a blob file to half",
    async run(victim) {
      const bytes = (await readFile(blobPath(victim))).length;
      await truncate(blobPath(victim), Math.floor(bytes / 2));
      await expectLoadFails(victim, [blobCorrupt], victim.blobId);
    },
  },
  {
    id: "blob-delete",
    name: "delete a blob file",
    async run(victim) {
      await unlink(blobPath(victim));
      await expectLoadFails(victim, [blobMissing], victim.blobId);
    },
  },
  {
    id: "ref-outside",
    name: "point the DB reference outside the store",
    async run(victim) {
      const db = victim.saver.db;
      db.prepare("UPDATE lg_items SET id = ? WHERE id = unhex(?)").run(
        outsideReference,
        victim.blobId,
      );
      db.prepare("UPDATE lg_checkpoints SET channel_refs = replace(channel_refs, ?, ?)").run(
        victim.blobId,
        outsideReference,
      );
      // SQLite stores item ids as their 32 bytes: a reference that is not hex names no row at all
      // (item missing), so the path never reaches the blob store either.
      await expectLoadFails(
        victim,
        [blobIdInvalid, rowCorrupt, itemMissing],
        outsideReference.slice(0, 20),
      );
    },
  },
  {
    id: "ref-absent",
    name: "point the DB reference at an item that is not stored",
    async run(victim) {
      const absent = "f".repeat(64);
      victim.saver.db
        .prepare("UPDATE lg_checkpoints SET channel_refs = replace(channel_refs, ?, ?)")
        .run(victim.blobId, absent);
      await expectLoadFails(victim, [itemMissing, blobMissing], absent);
    },
  },
  {
    id: "db-item-flip",
    name: "flip one byte in an item body kept in the DB",
    async run(victim) {
      // The 80 KB write value of the 7th step is a blob; the 6th checkpoint's item is in a row.
      const row = victim.saver.db
        .prepare(
          // Compressed (the default), the repetitive test values keep only a few dozen bytes.
          "SELECT lower(hex(id)) AS id, body FROM lg_items WHERE in_blob_store = 0 AND length(body) > 16 LIMIT 1",
        )
        .get() as { id: string; body: Buffer } | undefined;
      expectThat(row !== undefined, "no item stored in the DB to damage");
      const body = Buffer.from(row.body);
      body[Math.floor(body.length / 2)]! ^= 0x01;
      victim.saver.db.prepare("UPDATE lg_items SET body = ? WHERE id = unhex(?)").run(body, row.id);
      const referencing = await findCheckpointReferencing(victim, row.id);
      expectThat(referencing !== undefined, `no checkpoint references item ${row.id}`);
      await expectTypedFailure(
        () => victim.saver.getTuple(configOf(victim, referencing)),
        [itemCorrupt],
        row.id,
      );
    },
  },
];

async function findCheckpointReferencing(
  victim: Victim,
  itemId: string,
): Promise<string | undefined> {
  const rows = victim.saver.db
    .prepare("SELECT checkpoint_id, channel_refs FROM lg_checkpoints WHERE thread_id = ?")
    .all(victim.threadId) as Array<{ checkpoint_id: string; channel_refs: string }>;
  const direct = rows.find((row) => row.channel_refs.includes(itemId));
  if (direct) return direct.checkpoint_id;
  const write = victim.saver.db
    .prepare("SELECT checkpoint_id FROM lg_writes WHERE thread_id = ? AND value_ref LIKE ?")
    .get(victim.threadId, `%${itemId}%`) as { checkpoint_id: string } | undefined;
  return write?.checkpoint_id;
}

async function serdeBlobDamage(root: string, recorder: ScenarioRecorder): Promise<void> {
  await recorder.check("RedactingSerializer: flip a byte in a serde blob", async () => {
    const dir = join(root, "serde-blobs");
    const serde = new RedactingSerializer({
      blobStore: createFsBlobStore({ dir }),
      maxStringBytes: 1024,
    });
    const [type, payload] = await serde.dumpsTyped({ report: "r".repeat(10_000) });
    const ids: string[] = [];
    for await (const id of serde.blobStore.list()) ids.push(id);
    expectThat(ids.length === 1, `expected one serde blob, found ${ids.length}`);
    const path = join(dir, ids[0]!.slice(0, 2), ids[0]!.slice(2));
    const bytes = await readFile(path);
    bytes[3]! ^= 0x20;
    await writeFile(path, bytes);
    // A fresh serializer, as after a restart: the writer's own cache still holds the good bytes.
    const reader = new RedactingSerializer({
      blobStore: createFsBlobStore({ dir }),
      maxStringBytes: 1024,
    });
    await expectTypedFailure(() => reader.loadsTyped(type, payload), [blobCorrupt], ids[0]!);
  });
}

async function postgresBlobDamage(recorder: ScenarioRecorder): Promise<void> {
  const unavailable = await postgresUnavailableReason();
  if (unavailable) {
    recorder.note(`Postgres blob store part skipped: ${unavailable}`);
    return;
  }
  const schema = uniqueSchema("corrupt");
  const saver = LeanPostgresSaver.fromConnString(postgresUrl, { schema });
  try {
    const ids = await putChain(saver, { threadId: "pg", puts: 7, label: "pg", clockSeq: 1 });
    const [blob] = await queryOnce<{ id: string }>(
      `SELECT id FROM "${schema}".lg_items WHERE in_blob_store`,
    );
    await recorder.check("Postgres blob store: flip a byte in a part row", async () => {
      expectThat(blob !== undefined, "no blob item in Postgres");
      await queryOnce(
        // Byte 99, or the middle of a part that compression left shorter than that.
        `UPDATE "${schema}".lg_blob_parts
         SET bytes = set_byte(bytes, LEAST(99, octet_length(bytes) / 2),
           (get_byte(bytes, LEAST(99, octet_length(bytes) / 2)) + 1) % 256)
         WHERE blob_key = (SELECT parts_key FROM "${schema}".lg_blobs WHERE id = $1) AND seq = 0`,
        [blob.id],
      );
      await expectTypedFailure(
        () =>
          saver.getTuple({
            configurable: { thread_id: "pg", checkpoint_ns: "", checkpoint_id: ids[6]! },
          }),
        [blobCorrupt],
        blob.id,
      );
    });
    await recorder.check("Postgres blob store: delete a blob's rows", async () => {
      await queryOnce(
        `DELETE FROM "${schema}".lg_blob_parts
         WHERE blob_key = (SELECT parts_key FROM "${schema}".lg_blobs WHERE id = $1)`,
        [blob!.id],
      );
      await queryOnce(`DELETE FROM "${schema}".lg_blobs WHERE id = $1`, [blob!.id]);
      await expectTypedFailure(
        () =>
          saver.getTuple({
            configurable: { thread_id: "pg", checkpoint_ns: "", checkpoint_id: ids[6]! },
          }),
        [blobMissing],
        blob!.id,
      );
    });
  } finally {
    await saver.close();
    await dropSchema(schema);
  }
}

/**
 * Damages stored checkpoints the ways disks and people do, and requires every load of the damaged
 * item to fail with its typed error naming the item, while undamaged checkpoints still load.
 */
export async function runCorruptionScenario(
  options: {
    /** Damage ids to leave out, e.g. a known bug kept out of CI (see test/). @default [] */
    exclude?: string[];
  } = {},
): Promise<ScenarioResult> {
  const recorder = new ScenarioRecorder(
    "corruption",
    "Damaged blobs and references fail loudly with typed errors naming the item",
  );
  const root = await mkdtemp(join(tmpdir(), "lg-rel-corruption-"));
  try {
    for (const [index, damage] of damages.entries()) {
      if (options.exclude?.includes(damage.id)) continue;
      let victim: Victim | undefined;
      await recorder.check(`${damage.id} (${damage.name})`, async () => {
        victim = await makeVictim(root, `victim-${index}`);
        await damage.run(victim);
      });
      await victim?.saver.close();
    }
    await serdeBlobDamage(root, recorder);
    await postgresBlobDamage(recorder);
    recorder.note(`${recorder.result.trials} kinds of damage, each loaded by getTuple and list`);
    return recorder.finish();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
