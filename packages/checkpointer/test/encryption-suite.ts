import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MessagesDeltaValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { emptyCheckpoint, MemorySaver, uuid6 } from "@langchain/langgraph-checkpoint";
import {
  type BlobStore,
  type CompressionSetting,
  createCompressionLayer,
  createEncryptionLayer,
  createFsBlobStore,
  type EncryptionKey,
  type EncryptionKeySource,
  encryptionLayers,
  KeyRing,
  keyedContentIds,
  keyRingResolver,
  type LeangraphError,
  SerdeErrorCode,
} from "@leangraph/serde";
import { expect, it } from "vitest";
import { z } from "zod";
import { type LeanCheckpointSaver, rekey } from "../src/index.js";

/**
 * A blob directory as createCheckpointer composes it: compressed, then sealed, when keys are given;
 * with no keys nothing at all, so the markers can be seen (the check that the scan works). The
 * saver takes the same `ring`: one resolver for blobs and rows, as its own default store shares it.
 */
export function fsBlobStoreFor(
  blobDir: string,
  encryptionKeys: EncryptionKeySource | undefined,
): {
  blobStore: BlobStore;
  ring: EncryptionKeySource | undefined;
  compression: CompressionSetting;
} {
  const compression = encryptionKeys === undefined ? "off" : "auto";
  const ring = encryptionKeys === undefined ? undefined : keyRingResolver(encryptionKeys);
  const blobStore = createFsBlobStore({
    dir: blobDir,
    layers: [createCompressionLayer(compression), ...encryptionLayers(ring)],
  });
  return { blobStore, ring, compression };
}

/** Every file under a blob directory, and their names too: a blob's name is its id. */
export function blobDirBytes(blobDir: string): Buffer[] {
  if (!existsSync(blobDir)) return [];
  const files = readdirSync(blobDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
  const names = files.map((file) => file.slice(blobDir.length).replace(/[\\/]/g, ""));
  return [...files.map((file) => readFileSync(file)), Buffer.from(names.join("\n"))];
}

/** A saver of one backend over one database, and raw access to what that database holds. */
export interface EncryptedBackend {
  /** A saver over the same database (and blob store) each time. */
  open(encryptionKeys: EncryptionKeySource | undefined): Promise<LeanCheckpointSaver>;
  /**
   * Every byte the database keeps at rest (SQLite: the file and its WAL; Postgres: COPY of every
   * table), and the blob store's (its files' names included).
   */
  rawBytes(): Promise<Buffer>;
  /** Raw SQL on the same database, `?` placeholders, unqualified table names. */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * lg_items.id in SQL as the saver's hex id (`read`) and a hex id bound as a stored one
   * (`bind`): SQLite stores the 32 bytes, Postgres the hex text.
   */
  itemId: { read: string; bind: string };
  /** The blob store's directory, when its bodies are files (for the blob attacks). */
  blobDir?: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

const keyA: EncryptionKey = { id: "key-a", key: randomBytes(32) };
const keyB: EncryptionKey = { id: "key-b", key: randomBytes(32) };

/** Marker strings, one per place state can sit; none may be found at rest in any form. */
const markers = {
  message: "MARKERmessageQ7Zp1xLr9Kd2Vt",
  treeItem: "MARKERtreeitemW3Hs8Nb6Jc4Yf",
  metadata: "MARKERmetadataE5Gq2Mv7Tx1Ba",
  pendingWrite: "MARKERpendingwR8Ku3Pd5Zh9Lo",
  inline: "MARKERinlineS1Fw6Cy4Dn2Jm0",
  blob: "MARKERlargeblobT4Xe9Rg2Wq7Nc",
};

/** A value large enough for the blob store (the codec stores it there as an item of its own). */
const largeDocument = `${"lorem ipsum ".repeat(4000)}${markers.blob}${" dolor sit".repeat(4000)}`;
/** An array element above the stored-once size: an item of its own in the database (lg_items). */
const bigNote = `${markers.treeItem} big note ${"consectetur ".repeat(200)}`;

/**
 * Bodies whose content id anyone can compute: the codec names a value item by a hash of its
 * serialized bytes (here the JSON of a string without escapes). Without encryption that is the
 * sha256, so holding the database tells whether it contains a known text; with encryption the id
 * is keyed, and none of these may be found, in hex or as the 32 raw bytes tree nodes hold.
 */
const knownBodies = { largeDocument, bigNote };
const sha256Of = (text: string) => createHash("sha256").update(text, "utf8").digest();
function knownIdForms(): Map<string, string[]> {
  const forms = new Map<string, string[]>();
  for (const [name, value] of Object.entries(knownBodies))
    for (const bytes of [JSON.stringify(value), value]) {
      const digest = sha256Of(bytes);
      forms.set(`sha256 of ${name}${bytes === value ? "" : " as JSON"}`, [
        digest.toString("hex"),
        digest.toString("latin1"),
      ]);
    }
  return forms;
}
/** The id a value's item gets under `key` (as the saver names it with that key first). */
function keyedIdOf(key: EncryptionKey, value: string): string {
  return keyedContentIds(new KeyRing([key])).of(Buffer.from(JSON.stringify(value), "utf8"));
}

/** The forms a marker could be stored in: itself, hex, and base64 at each of the 3 alignments. */
function markerForms(marker: string): string[] {
  const forms = [marker, Buffer.from(marker).toString("hex")];
  forms.push(Buffer.from(marker).toString("hex").toUpperCase());
  for (let shift = 0; shift < 3; shift += 1) {
    const base64 = Buffer.from(`${"..".slice(0, shift)}${marker}`).toString("base64");
    forms.push(base64.slice(4, -4)); // the part that does not depend on the neighbouring bytes
  }
  return forms;
}

const ChatState = new StateSchema({
  messages: MessagesDeltaValue,
  notes: z.array(z.string()).default(() => []),
  tag: z.string().default(""),
  doc: z.string().default(""),
});

function buildChat(checkpointer: LeanCheckpointSaver) {
  return new StateGraph(ChatState)
    .addNode("assistant", (state) => ({
      messages: [new AIMessage(`${markers.message} reply ${state.messages.length}`)],
      // A long array of short strings: stored as a tree of items in the database.
      notes: [
        ...Array.from({ length: 300 }, (_, index) => `${markers.treeItem} note ${index}`),
        bigNote,
      ],
      tag: markers.inline,
      doc: largeDocument,
    }))
    .addEdge(START, "assistant")
    .addEdge("assistant", END)
    .compile({ checkpointer });
}

async function writeMarkedThread(saver: LeanCheckpointSaver, threadId: string) {
  const graph = buildChat(saver);
  const config = { configurable: { thread_id: threadId } };
  for (let turn = 0; turn < 3; turn += 1)
    await graph.invoke(
      { messages: [new HumanMessage(`${markers.message} question ${turn}`)] },
      config,
    );
  // Metadata and a pending write on a checkpoint put directly (LangGraph writes its own
  // metadata), in a thread of their own so the chat's newest checkpoint stays the graph's.
  const put = await saver.put(
    { configurable: { thread_id: `${threadId}-direct`, checkpoint_ns: "" } },
    { ...emptyCheckpoint(), id: uuid6(-3) },
    { source: "update", step: 9, parents: {}, note: markers.metadata } as never,
    {},
  );
  await saver.putWrites(put, [["notes", `${markers.pendingWrite} pending`]], "task-1");
  return { graph, config };
}

async function readEverything(saver: LeanCheckpointSaver, threadId: string) {
  const config = { configurable: { thread_id: threadId } };
  const tuples = [];
  for await (const tuple of saver.list(config)) tuples.push(tuple);
  const state = await buildChat(saver).getState(config);
  return { tuples, state };
}

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
  } catch (error) {
    return (error as LeangraphError).code ?? `uncoded: ${(error as Error).message}`;
  }
  return undefined;
}

export function testEncryptionAtRest(name: string, backend: () => Promise<EncryptedBackend>) {
  it(`${name}: no marker, nor its hex or base64, is found in the database at rest`, async () => {
    const db = await backend();
    const saver = await db.open([keyA]);
    await writeMarkedThread(saver, "marked");
    const { state } = await readEverything(saver, "marked");
    expect(JSON.stringify(state.values)).toContain(markers.treeItem);
    expect(state.values.messages.length).toBe(6);
    const raw = (await db.rawBytes()).toString("latin1");
    expect(raw.length).toBeGreaterThan(0);
    for (const [place, marker] of Object.entries(markers))
      for (const form of markerForms(marker))
        expect(raw.includes(form), `${place}: ${form}`).toBe(false);
    // Nor can anyone test for a known text by its sha256: ids are keyed.
    for (const [what, forms] of knownIdForms())
      for (const form of forms) expect(raw.includes(form), what).toBe(false);
    // (Stored as hex text or as its 32 bytes, by backend.)
    for (const value of Object.values(knownBodies)) {
      const keyed = keyedIdOf(keyA, value);
      const named =
        raw.includes(keyed) || raw.includes(Buffer.from(keyed, "hex").toString("latin1"));
      expect(named, "the keyed id is what names it").toBe(true);
    }
    await saver.close();
    // The scan can see markers: the same writes without encryption leave them in plain sight.
    const plainDb = await backend();
    const plain = await plainDb.open(undefined);
    await writeMarkedThread(plain, "plain");
    const plainRaw = (await plainDb.rawBytes()).toString("latin1");
    for (const [place, marker] of Object.entries(markers))
      expect(
        markerForms(marker).some((form) => plainRaw.includes(form)),
        place,
      ).toBe(true);
    // …and so can the id scan: without encryption both values are named by their JSON's sha256.
    for (const [name, value] of Object.entries(knownBodies)) {
      const digest = sha256Of(JSON.stringify(value));
      const named =
        plainRaw.includes(digest.toString("hex")) || plainRaw.includes(digest.toString("latin1"));
      expect(named, name).toBe(true);
    }
    await plain.close();
  });

  it(`${name}: reads back the same state as without encryption, metadata filters and copyThread included`, async () => {
    const db = await backend();
    const saver = await db.open([keyA]);
    await writeMarkedThread(saver, "source");
    const memory = new MemorySaver();
    await writeMarkedThread(memory as unknown as LeanCheckpointSaver, "source");
    for (const filter of [
      { source: "update" },
      { step: 9 },
      { note: markers.metadata },
      { source: "loop" },
      { step: 1 },
    ]) {
      const ours = [];
      for await (const tuple of saver.list({}, { filter })) ours.push(tuple.metadata);
      const theirs = [];
      for await (const tuple of memory.list({}, { filter })) theirs.push(tuple.metadata);
      expect(ours.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(ours, JSON.stringify(filter)).toEqual(theirs);
    }
    await saver.copyThread("source", "copy");
    const source = await readEverything(saver, "source");
    const copy = await readEverything(saver, "copy");
    expect(copy.state.values).toEqual(source.state.values);
    expect(copy.tuples.map((tuple) => tuple.pendingWrites)).toEqual(
      source.tuples.map((tuple) => tuple.pendingWrites),
    );
    expect((await saver.gc({ graceMs: 0 })).deletedItems).toBe(0);
    expect((await readEverything(saver, "copy")).state.values).toEqual(source.state.values);
    await saver.close();
  });

  it(`${name}: a flipped byte in a row or an item, and a row moved from thread A to B, end in coded errors`, async () => {
    const db = await backend();
    const saver = await db.open([keyA]);
    await writeMarkedThread(saver, "thread-a");
    await writeMarkedThread(saver, "thread-b");
    await saver.close();
    const rows = await db.query(
      "SELECT checkpoint_id, checkpoint, metadata, channel_refs FROM lg_checkpoints WHERE thread_id = ? ORDER BY checkpoint_id DESC",
      ["thread-a"],
    );
    const newestA = rows[0]!;
    const newestB = (
      await db.query(
        "SELECT checkpoint_id FROM lg_checkpoints WHERE thread_id = ? ORDER BY checkpoint_id DESC",
        ["thread-b"],
      )
    )[0]!;
    // A's newest payload columns over B's newest row: B must not read A's state.
    await db.query(
      "UPDATE lg_checkpoints SET checkpoint = ?, metadata = ?, channel_refs = ? WHERE thread_id = ? AND checkpoint_id = ?",
      [
        newestA.checkpoint,
        newestA.metadata,
        newestA.channel_refs,
        "thread-b",
        newestB.checkpoint_id,
      ],
    );
    const reopened = await db.open([keyA]);
    expect(await codeOf(reopened.getTuple({ configurable: { thread_id: "thread-b" } }))).toBe(
      SerdeErrorCode.decryptionFailed,
    );
    // A flipped byte in A's newest checkpoint column.
    const flipped = Buffer.from(newestA.checkpoint as Buffer);
    flipped[flipped.byteLength - 20]! ^= 1;
    await db.query(
      "UPDATE lg_checkpoints SET checkpoint = ? WHERE thread_id = ? AND checkpoint_id = ?",
      [flipped, "thread-a", newestA.checkpoint_id],
    );
    const error = await reopened
      .getTuple({ configurable: { thread_id: "thread-a" } })
      .catch((e) => e);
    expect(error.code).toBe(SerdeErrorCode.decryptionFailed);
    expect(error.message).toContain(String(newestA.checkpoint_id));
    await reopened.close();

    // A flipped byte in a database item body (a tree node of thread C's notes).
    const fresh = await db.open([keyA]);
    await writeMarkedThread(fresh, "thread-c");
    await fresh.close();
    const items = await db.query(
      `SELECT ${db.itemId.read} AS id, body FROM lg_items WHERE body IS NOT NULL`,
    );
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      const body = Buffer.from(item.body as Buffer);
      body[body.byteLength - 1]! ^= 1;
      await db.query(`UPDATE lg_items SET body = ? WHERE id = ${db.itemId.bind}`, [body, item.id]);
    }
    const damaged = await db.open([keyA]);
    const itemError = await damaged
      .getTuple({ configurable: { thread_id: "thread-c" } })
      .catch((e) => e);
    expect(itemError.code).toBe(SerdeErrorCode.decryptionFailed);
    expect(itemError.message).toMatch(/item [0-9a-f]{64}/);
    await damaged.close();
  });

  it(`${name}: a flipped byte in a blob, and a blob replaced by its plaintext, end in coded errors`, async () => {
    const db = await backend();
    if (db.blobDir === undefined) return;
    const saver = await db.open([keyA]);
    await writeMarkedThread(saver, "blobs");
    const before = await readEverything(saver, "blobs");
    expect(before.state.values.doc).toBe(largeDocument);
    await saver.close();
    const files = filesUnder(db.blobDir).filter((file) => /[0-9a-f]{62}$/.test(file));
    expect(files.length).toBeGreaterThan(0);
    const originals = new Map(files.map((file) => [file, readFileSync(file)]));
    for (const [file, bytes] of originals) {
      const flipped = Buffer.from(bytes);
      flipped[flipped.byteLength - 3]! ^= 1;
      writeFileSync(file, flipped);
    }
    const damaged = await db.open([keyA]);
    const error = await readEverything(damaged, "blobs").catch((e) => e);
    expect(error.code).toBe(SerdeErrorCode.decryptionFailed);
    expect(error.message).toMatch(/blob [0-9a-f]{64}/);
    await damaged.close();
    // Each blob replaced by its own plain bytes (which still hash to its id): refused.
    const layer = createEncryptionLayer([keyA]);
    for (const [file, bytes] of originals) {
      const id = file.replace(/[\\/]/g, "").slice(-64);
      writeFileSync(file, await layer.decode(bytes, { kind: "blob", id }));
    }
    const planted = await db.open([keyA]);
    expect((await readEverything(planted, "blobs").catch((e) => e)).code).toBe(
      SerdeErrorCode.notEncrypted,
    );
    await planted.close();
  });

  it(`${name}: plaintext planted by hand is refused, never read`, async () => {
    const db = await backend();
    // A thread written without encryption, then read with it: every row is "planted".
    const plain = await db.open(undefined);
    await writeMarkedThread(plain, "planted");
    await plain.close();
    const saver = await db.open([keyA]);
    expect(await codeOf(saver.getTuple({ configurable: { thread_id: "planted" } }))).toBe(
      SerdeErrorCode.notEncrypted,
    );
    expect(await codeOf(readEverything(saver, "planted"))).toBe(SerdeErrorCode.notEncrypted);
    await saver.close();
    // An item body replaced by its own plaintext (it still hashes to its id), in a database of
    // its own (here the plaintext blobs above would refuse the sealed copies: fail closed).
    const db2 = await backend();
    const sealedSaver = await db2.open([keyA]);
    await writeMarkedThread(sealedSaver, "sealed");
    await sealedSaver.close();
    const layer = createEncryptionLayer([keyA]);
    const items = await db2.query(
      `SELECT ${db2.itemId.read} AS id, body FROM lg_items WHERE body IS NOT NULL`,
    );
    let planted = 0;
    for (const item of items) {
      const plainBody = await layer
        .decode(item.body as Buffer, { kind: "item", id: String(item.id) })
        .catch(() => undefined);
      if (plainBody === undefined) continue;
      await db2.query(`UPDATE lg_items SET body = ? WHERE id = ${db2.itemId.bind}`, [
        plainBody,
        item.id,
      ]);
      planted += 1;
    }
    expect(planted).toBeGreaterThan(0);
    const reopened = await db2.open([keyA]);
    const error = await readEverything(reopened, "sealed").catch((e) => e);
    expect(error.code).toBe(SerdeErrorCode.notEncrypted);
    await reopened.close();
  });

  it(`${name}: a wrong key, a missing key and no keys at all fail at the first read with coded errors`, async () => {
    const db = await backend();
    const saver = await db.open([keyA]);
    await writeMarkedThread(saver, "keyed");
    await saver.close();
    const config = { configurable: { thread_id: "keyed" } };
    const wrong = await db.open([{ id: keyA.id, key: randomBytes(32) }]);
    expect(await codeOf(wrong.getTuple(config))).toBe(SerdeErrorCode.decryptionFailed);
    await wrong.close();
    const missing = await db.open([keyB]);
    const error = await missing.getTuple(config).catch((e) => e);
    expect(error.code).toBe(SerdeErrorCode.encryptionKeyMissing);
    expect(error.message).toContain(`"${keyA.id}"`);
    await missing.close();
    const none = await db.open(undefined);
    expect(await codeOf(none.getTuple(config))).toBe(SerdeErrorCode.encryptionKeyMissing);
    expect(await codeOf(none.list(config).next())).toBe(SerdeErrorCode.encryptionKeyMissing);
    // gc cannot see an encrypted row's refs without keys: it must stop, not delete live items.
    expect(await codeOf(none.gc({ graceMs: 0 }))).toBe(SerdeErrorCode.encryptionKeyMissing);
    await none.close();
    const again = await db.open([keyA]);
    expect((await readEverything(again, "keyed")).state.values.tag).toBe(markers.inline);
    await again.close();
  });

  it(`${name}: rotation: written under A, read with B first, new writes under B; without A, A's rows are refused naming A`, async () => {
    const db = await backend();
    const first = await db.open([keyA]);
    await writeMarkedThread(first, "old");
    const before = await readEverything(first, "old");
    await first.close();
    const rotated = await db.open([keyB, keyA]);
    expect((await readEverything(rotated, "old")).state.values).toEqual(before.state.values);
    await writeMarkedThread(rotated, "new");
    await rotated.close();
    const rows = await db.query("SELECT checkpoint FROM lg_checkpoints WHERE thread_id = ?", [
      "new",
    ]);
    for (const row of rows)
      expect((row.checkpoint as Buffer).toString("latin1")).toContain(keyB.id);
    // Ids do not survive the rotation: the same values written again under B are named anew
    // (stored once more), beside the copies named under A, which stay valid references.
    const itemIds = async () =>
      new Set(
        (await db.query(`SELECT ${db.itemId.read} AS id FROM lg_items`)).map((row) =>
          String(row.id),
        ),
      );
    const idsAfterRotation = await itemIds();
    for (const value of Object.values(knownBodies)) {
      expect(idsAfterRotation.has(keyedIdOf(keyA, value))).toBe(true);
      expect(idsAfterRotation.has(keyedIdOf(keyB, value))).toBe(true);
    }
    // So "new" reads with B alone: nothing it names was stored under A. "old" needs A (or
    // `rekey`) until its bodies are sealed again.
    const onlyB = await db.open([keyB]);
    expect((await readEverything(onlyB, "new")).state.values.notes).toContain(bigNote);
    const error = await readEverything(onlyB, "old").catch((e) => e);
    expect(error.code).toBe(SerdeErrorCode.encryptionKeyMissing);
    expect(error.message).toContain(`"${keyA.id}"`);
    await onlyB.close();

    // rekey under [B, A]: stopped after its first thread, then run again to the end.
    const underA = await db.query(
      "SELECT checkpoint_id, checkpoint FROM lg_checkpoints WHERE thread_id = ?",
      ["old"],
    );
    const both = await db.open([keyB, keyA]);
    const stop = new AbortController();
    const stopped = await rekey(both, {
      signal: stop.signal,
      onProgress: () => stop.abort(),
    }).catch((e) => e);
    expect(stopped.name).toBe("AbortError");
    const finished = await rekey(both);
    expect(finished.keyId).toBe(keyB.id);
    expect(finished.threadsResealed).toBeGreaterThan(0);
    expect(finished.threadsResealed).toBeLessThan(finished.threads);
    expect(finished.itemsResealed).toBeGreaterThan(0);
    expect((await rekey(both)).threadsResealed + (await rekey(both)).itemsResealed).toBe(0);
    await both.close();
    // rekey re-seals without renaming: A's ids are still what "old" names, and still stored.
    const idsAfterRekey = await itemIds();
    for (const value of Object.values(knownBodies))
      expect(idsAfterRekey.has(keyedIdOf(keyA, value))).toBe(true);
    const afterRekey = await db.open([keyB]);
    expect((await readEverything(afterRekey, "old")).state.values).toEqual(before.state.values);
    expect((await readEverything(afterRekey, "new")).state.values.tag).toBe(markers.inline);
    await afterRekey.close();
    // A row still under A (a restored backup): refused, naming A.
    await db.query(
      "UPDATE lg_checkpoints SET checkpoint = ? WHERE thread_id = ? AND checkpoint_id = ?",
      [underA[0]!.checkpoint, "old", underA[0]!.checkpoint_id],
    );
    const restored = await db.open([keyB]);
    const refused = await restored
      .getTuple({
        configurable: { thread_id: "old", checkpoint_id: String(underA[0]!.checkpoint_id) },
      })
      .catch((e) => e);
    expect(refused.code).toBe(SerdeErrorCode.encryptionKeyMissing);
    expect(refused.message).toContain(`"${keyA.id}"`);
    await restored.close();
  });

  it(`${name}: rekey moves a plaintext database to encryption only when told to adopt plaintext`, async () => {
    const db = await backend();
    const plain = await db.open(undefined);
    await writeMarkedThread(plain, "legacy");
    const before = await readEverything(plain, "legacy");
    const beforeDirect = await readEverything(plain, "legacy-direct");
    await plain.close();
    const saver = await db.open([keyA]);
    expect(await codeOf(rekey(saver))).toBe(SerdeErrorCode.notEncrypted);
    const report = await rekey(saver, { adoptPlaintext: true });
    expect(report.threadsResealed).toBe(report.threads);
    const after = await readEverything(saver, "legacy");
    expect(after.state.values).toEqual(before.state.values);
    expect(after.tuples.map((tuple) => tuple.metadata)).toEqual(
      before.tuples.map((tuple) => tuple.metadata),
    );
    const direct = (await readEverything(saver, "legacy-direct")).tuples[0]!;
    expect(direct.pendingWrites).toEqual(beforeDirect.tuples[0]!.pendingWrites);
    expect(JSON.stringify(direct.pendingWrites)).toContain(markers.pendingWrite);
    expect(direct.metadata).toEqual(beforeDirect.tuples[0]!.metadata);
    await saver.close();
    // Nothing plaintext is left among the live rows: a plain reader is refused everywhere.
    const none = await db.open(undefined);
    expect(await codeOf(none.getTuple({ configurable: { thread_id: "legacy" } }))).toBe(
      SerdeErrorCode.encryptionKeyMissing,
    );
    await none.close();
  });

  it(`${name}: a body that starts like a compression header reads back, written sealed or adopted by rekey`, async () => {
    // Raw bytes (a top-level Uint8Array: the serializer's "bytes" type) that begin with the body
    // format's magic, version 1 and codec 2: under encryption nothing re-hashes a body, so only
    // its header can say it is not brotli.
    // Random after the header-like start: it does not compress, so it is stored as it is.
    const lookalike = Buffer.concat([
      Buffer.from([0x89, 0x4c, 0x47, 0x42, 1, 2]),
      randomBytes(1000),
    ]);
    const putLookalike = async (saver: LeanCheckpointSaver, threadId: string) => {
      const config = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
      const checkpoint = {
        ...emptyCheckpoint(),
        id: uuid6(-3),
        channel_values: { bytes: lookalike },
        channel_versions: { bytes: 1 },
      };
      await saver.put(config, checkpoint, { source: "update", step: 1, parents: {} } as never, {
        bytes: 1,
      });
      return config;
    };
    const storedBytesOf = async (saver: LeanCheckpointSaver, config: object) =>
      Buffer.from((await saver.getTuple(config))!.checkpoint.channel_values.bytes as Uint8Array);
    const db = await backend();
    // Written with encryption on: the body is given a header of codec none, then sealed.
    const sealed = await db.open([keyA]);
    const sealedConfig = await putLookalike(sealed, "sealed-lookalike");
    expect((await storedBytesOf(sealed, sealedConfig)).equals(lookalike)).toBe(true);
    await sealed.close();
    // Written plain, as a body from before headers existed (its bytes as they are), then adopted.
    const db2 = await backend();
    const plain = await db2.open(undefined);
    const plainConfig = await putLookalike(plain, "plain-lookalike");
    await plain.close();
    const id = createHash("sha256").update(lookalike).digest("hex");
    expect(
      (await db2.query(`SELECT id FROM lg_items WHERE id = ${db2.itemId.bind}`, [id])).length,
    ).toBe(1);
    await db2.query(`UPDATE lg_items SET body = ? WHERE id = ${db2.itemId.bind}`, [lookalike, id]);
    const adopting = await db2.open([keyA]);
    await rekey(adopting, { adoptPlaintext: true });
    expect((await storedBytesOf(adopting, plainConfig)).equals(lookalike)).toBe(true);
    await adopting.close();
  });

  it(`${name}: an async key provider is asked once; keys never show in inspect, JSON or errors`, async () => {
    const db = await backend();
    let asked = 0;
    const saver = await db.open(async () => {
      asked += 1;
      return [keyA];
    });
    await writeMarkedThread(saver, "provided");
    await readEverything(saver, "provided");
    expect(asked).toBe(1);
    const shown = `${inspect(saver, { depth: 8, showHidden: true })}${JSON.stringify(await saver.storageStats())}`;
    for (const key of [keyA.key])
      for (const form of [Buffer.from(key).toString("base64"), Buffer.from(key).toString("hex")])
        expect(shown).not.toContain(form);
    await saver.close();
  });
}
