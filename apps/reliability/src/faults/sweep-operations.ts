import { createHash } from "node:crypto";
import { copyCheckpoint, JsonPlusSerializer, uuid6 } from "@langchain/langgraph-checkpoint";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { buildGraph, inputFor } from "../differential/graphs.js";

/** Text past the serializer's 1 KiB string threshold, and one past its 64 KiB chunking one. */
function bigText(label: string, bytes: number): string {
  let text = "";
  for (let line = 0; text.length < bytes; line += 1) text += `${label} line ${line}\n`;
  return text;
}

const wideEntries = Object.fromEntries(
  Array.from({ length: 12 }, (_, index) => [
    `key${index}`,
    index % 3 === 0 ? bigText(`v${index}`, 1500) : `v${index}`,
  ]),
);

/**
 * The state every trial starts from, written through real graphs: a plain thread with blobs,
 * content-defined chunks and a keyed tree; a thread paused at an interrupt (pending writes); a
 * DeltaChannel chat; a DeltaChannel chat pruned to its last checkpoint (its history lives on as
 * retained history only) and a copy of it; a subgraph's namespaces. So the clean gc after every
 * trial covers every kind of root: checkpoint rows, pending writes, retained history, copies.
 */
export async function seedFixture(saver: LeanCheckpointSaver): Promise<void> {
  const config = (threadId: string) => ({ configurable: { thread_id: threadId } });
  const plain = buildGraph("plain", saver);
  await plain.invoke(
    inputFor("plain", { text: bigText("first", 3000), entries: wideEntries, number: 1 }),
    config("plain"),
  );
  await plain.invoke(
    inputFor("plain", { text: bigText("second", 70_000), entries: {}, number: 2 }),
    config("plain"),
  );
  await buildGraph("interrupt", saver).invoke(
    inputFor("interrupt", { text: bigText("question", 1200), entries: {}, number: 0 }),
    config("ask"),
  );
  const delta = buildGraph("delta", saver);
  for (let turn = 0; turn < 4; turn += 1) {
    await delta.invoke(
      inputFor("delta", { text: bigText(`turn ${turn}`, 1100), entries: {}, number: 0 }),
      config("delta"),
    );
  }
  for (let turn = 0; turn < 4; turn += 1) {
    await delta.invoke(
      inputFor("delta", { text: bigText(`kept ${turn}`, 1100), entries: {}, number: 0 }),
      config("delta-pruned"),
    );
  }
  await saver.prune(["delta-pruned"], { keepLast: 1 });
  await saver.copyThread("delta-pruned", "delta-pruned-copy");
  await buildGraph("subgraph", saver).invoke(
    inputFor("subgraph", { text: "notes", entries: wideEntries, number: 0 }),
    config("sub"),
  );
}

const stock = new JsonPlusSerializer();

async function digest(value: unknown): Promise<string> {
  return createHash("sha256")
    .update((await stock.dumpsTyped(value))[1])
    .digest("hex");
}

/** Checkpoint key (`thread|ns|id`) to the digest of everything a read returns for it. */
export type StoreState = Map<string, string>;

/**
 * Every checkpoint of every thread as a fresh saver reads it: the tuple from `getTuple` (values,
 * metadata, pending writes, parent) and, for DeltaChannel threads, the state LangGraph rebuilds
 * from ancestors' writes. A blob that is gone makes this throw.
 */
export async function readStore(saver: LeanCheckpointSaver): Promise<StoreState> {
  const state: StoreState = new Map();
  for await (const threadId of saver.listThreadIds()) {
    for await (const listed of saver.list({ configurable: { thread_id: threadId } })) {
      const tuple = await saver.getTuple(listed.config);
      const { checkpoint_ns: ns, checkpoint_id: id } = listed.config.configurable ?? {};
      state.set(
        `${threadId}|${ns}|${id}`,
        await digest({
          checkpoint: tuple?.checkpoint,
          metadata: tuple?.metadata,
          pendingWrites: tuple?.pendingWrites,
          parent: tuple?.parentConfig?.configurable?.checkpoint_id,
        }),
      );
    }
    if (!threadId.startsWith("delta")) continue;
    const graph = buildGraph("delta", saver);
    for await (const snapshot of graph.getStateHistory({ configurable: { thread_id: threadId } })) {
      state.set(
        `${threadId}|state|${snapshot.config.configurable?.checkpoint_id}`,
        await digest(snapshot.values),
      );
    }
  }
  return state;
}

/** How an operation may leave the store when a fault stops it part-way. */
export type Atomicity =
  /** Exactly as before or exactly as after a fault-free run (one transaction). */
  | "whole"
  /** Each checkpoint as before, or gone when the fault-free run removes it too (batches). */
  | "per-checkpoint"
  /** Unchanged (reads, and gc, which never changes what a checkpoint reads). */
  | "unchanged";

export interface SweepOperation {
  name: string;
  atomicity: Atomicity;
  fixture: "seeded" | "legacy";
  /** Work done before the fault is armed (reads a put needs, a blob for gc to collect, …). */
  prepare?(saver: LeanCheckpointSaver): Promise<unknown>;
  /** The operation; what it returns (a read's result) must equal the fault-free run's when it resolves. */
  run(saver: LeanCheckpointSaver, prepared: unknown): Promise<string | undefined>;
}

/**
 * The id of the checkpoint the put operation writes: the same in every trial (so a faulty run's
 * store compares with the fault-free one key by key), made on first use, after the fixture's.
 */
let putId: string | undefined;
function putCheckpointId(): string {
  putId ??= uuid6(-1);
  return putId;
}

const latest = async (saver: LeanCheckpointSaver, threadId: string) => {
  const tuple = await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
  if (tuple === undefined) throw new Error(`fixture has no checkpoint on thread ${threadId}`);
  return tuple;
};

export const sweepOperations: SweepOperation[] = [
  {
    name: "put",
    atomicity: "whole",
    fixture: "seeded",
    prepare: (saver) => latest(saver, "plain"),
    async run(saver, prepared) {
      const parent = prepared as Awaited<ReturnType<typeof latest>>;
      const checkpoint = copyCheckpoint(parent.checkpoint);
      checkpoint.id = putCheckpointId();
      const log = [...((checkpoint.channel_values.log as string[]) ?? []), bigText("put", 90_000)];
      const version = Number(checkpoint.channel_versions.log ?? 0) + 1;
      checkpoint.channel_values = {
        ...checkpoint.channel_values,
        log,
        doc: { ...wideEntries, key1: "changed" },
      };
      checkpoint.channel_versions = { ...checkpoint.channel_versions, log: version, doc: version };
      await saver.put(
        parent.config,
        checkpoint,
        { source: "update", step: 99, parents: {} },
        {
          log: version,
          doc: version,
        },
      );
      return undefined;
    },
  },
  {
    name: "putWrites",
    atomicity: "whole",
    fixture: "seeded",
    prepare: (saver) => latest(saver, "plain"),
    async run(saver, prepared) {
      const parent = prepared as Awaited<ReturnType<typeof latest>>;
      await saver.putWrites(
        parent.config,
        [
          ["log", [bigText("write", 5000)]],
          ["doc", { ...wideEntries, key2: bigText("entry", 2000) }],
        ],
        "fault-sweep-task",
      );
      return undefined;
    },
  },
  {
    name: "getTuple",
    atomicity: "unchanged",
    fixture: "seeded",
    async run(saver) {
      const plain = await saver.getTuple({
        configurable: { thread_id: "plain", checkpoint_ns: "" },
      });
      const ask = await saver.getTuple({ configurable: { thread_id: "ask", checkpoint_ns: "" } });
      return digest([plain?.checkpoint, plain?.metadata, ask?.checkpoint, ask?.pendingWrites]);
    },
  },
  {
    name: "list",
    atomicity: "unchanged",
    fixture: "seeded",
    async run(saver) {
      const tuples = [];
      for await (const tuple of saver.list({ configurable: { thread_id: "plain" } })) {
        tuples.push([tuple.checkpoint, tuple.metadata, tuple.pendingWrites]);
      }
      return digest(tuples);
    },
  },
  {
    name: "gc",
    atomicity: "unchanged",
    fixture: "seeded",
    // Garbage for gc to find: a blob nothing names (as a crashed put leaves) and a deleted thread's.
    async prepare(saver) {
      await saver.blobStore.put(new TextEncoder().encode(bigText("orphan", 4000)));
    },
    async run(saver) {
      await saver.gc({ graceMs: 0 });
      return undefined;
    },
  },
  {
    name: "prune",
    atomicity: "per-checkpoint",
    fixture: "seeded",
    async run(saver) {
      await saver.prune(["plain", "delta", "sub"], { keepLast: 1 });
      return undefined;
    },
  },
  {
    name: "deleteThread",
    atomicity: "whole",
    fixture: "seeded",
    async run(saver) {
      await saver.deleteThread("plain");
      return undefined;
    },
  },
  {
    name: "copyThread",
    atomicity: "whole",
    fixture: "seeded",
    async run(saver) {
      await saver.copyThread("delta", "delta-copy");
      return undefined;
    },
  },
  {
    name: "migration",
    atomicity: "whole",
    fixture: "legacy",
    async run(saver) {
      await saver.setup();
      return undefined;
    },
  },
];
