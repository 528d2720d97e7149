import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { LeanPostgresSaver } from "@leangraph/checkpointer/postgres";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { createFsBlobStore } from "@leangraph/serde";
import {
  dropSchema,
  postgresUnavailableReason,
  postgresUrl,
  uniqueSchema,
} from "@leangraph/test-postgres";
import { putChain, valueFor } from "../support/checkpoint-writer.js";
import { cleanEnv, startNode, tail } from "../support/child-process.js";
import { chunkText } from "../support/chunk-graph.js";
import { childProgram, packageDir } from "../support/paths.js";
import { ScenarioRecorder, type ScenarioResult } from "../support/scenario-result.js";
import { sqliteIntegrity } from "../support/storage-audit.js";

export interface ConcurrencyScenarioOptions {
  /** @default 4 */
  sqliteProcesses?: number;
  /** @default 200 */
  putsPerProcess?: number;
  /** @default 16 */
  postgresClients?: number;
  /** @default 25 */
  putsPerClient?: number;
  /** Supersteps the two turn-taking processes share. @default 20 */
  turns?: number;
}

/**
 * Checks that exactly `expectedIds` are stored for `threadId` (none lost, none duplicated) and
 * that each loads with the value it was written with. Returns lost + duplicated + wrong.
 */
async function verifyThread(
  saver: BaseCheckpointSaver,
  threadId: string,
  expected: Map<string, string>,
  recorder: ScenarioRecorder,
): Promise<void> {
  const seen = new Map<string, number>();
  for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) {
    const id = String(tuple.config.configurable?.checkpoint_id);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const want = expected.get(id);
    if (want === undefined) recorder.failure(`${threadId}: unexpected checkpoint ${id}`);
    else if (tuple.checkpoint.channel_values.note !== want) {
      recorder.failure(`${threadId}: checkpoint ${id} holds the wrong value`);
    }
  }
  let missing = 0;
  for (const id of expected.keys()) if (!seen.has(id)) missing += 1;
  recorder.lost(missing, `${threadId}: ${missing} of ${expected.size} checkpoints missing`);
  const duplicated = [...seen.values()].filter((count) => count > 1).length;
  recorder.lost(duplicated, `${threadId}: ${duplicated} checkpoints listed more than once`);
}

function expectedValues(ids: string[], label: string): Map<string, string> {
  return new Map(ids.map((id, index) => [id, valueFor(label, index)]));
}

async function sqliteProcesses(
  recorder: ScenarioRecorder,
  processes: number,
  puts: number,
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "lg-rel-conc-sqlite-"));
  try {
    const dbPath = join(root, "shared.sqlite");
    const blobDir = join(root, "blobs");
    const children = Array.from({ length: processes }, (_, index) =>
      startNode(childProgram("sqlite-putter"), [dbPath, blobDir, String(index), String(puts)], {
        env: cleanEnv(),
        typescript: true,
      }),
    );
    const outcomes = await Promise.all(children.map((child) => child.done));
    const saver = LeanSqliteSaver.fromConnString(dbPath, {
      blobStore: createFsBlobStore({ dir: blobDir }),
    });
    try {
      const shared = new Map<string, string>();
      for (const [index, outcome] of outcomes.entries()) {
        recorder.result.trials += puts + Math.floor(puts / 4);
        if (/SQLITE_BUSY|database is locked/i.test(outcome.stderr)) {
          recorder.failure(`process ${index} surfaced SQLITE_BUSY: ${tail(outcome.stderr, 3)}`);
        }
        if (outcome.code !== 0) {
          recorder.failure(`process ${index} exited ${outcome.code}: ${tail(outcome.stderr)}`);
          continue;
        }
        const { ownIds, sharedIds } = JSON.parse(outcome.stdout) as {
          ownIds: string[];
          sharedIds: string[];
        };
        await verifyThread(
          saver,
          `process-${index}`,
          expectedValues(ownIds, `p${index}`),
          recorder,
        );
        for (const [id, value] of expectedValues(sharedIds, `shared-p${index}`))
          shared.set(id, value);
      }
      await verifyThread(saver, "shared", shared, recorder);
      const integrity = sqliteIntegrity(saver.db);
      if (integrity !== "ok") recorder.failure(`integrity_check: ${integrity}`);
      recorder.note(
        `SQLite: ${processes} processes x ${puts} puts (+${Math.floor(puts / 4)} each on a shared thread), integrity_check ${integrity}`,
      );
    } finally {
      await saver.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function postgresClients(
  recorder: ScenarioRecorder,
  clients: number,
  puts: number,
): Promise<void> {
  const schema = uniqueSchema("conc");
  const setupSaver = LeanPostgresSaver.fromConnString(postgresUrl, { schema });
  try {
    await setupSaver.setup();
    const savers = Array.from({ length: clients }, () =>
      LeanPostgresSaver.fromConnString(postgresUrl, { schema }),
    );
    const results = await Promise.allSettled(
      savers.map((saver, index) =>
        putChain(saver, { threadId: `client-${index}`, puts, label: `c${index}`, clockSeq: index }),
      ),
    );
    await Promise.all(savers.map((saver) => saver.close()));
    for (const [index, result] of results.entries()) {
      recorder.result.trials += puts;
      if (result.status === "rejected") {
        recorder.failure(`client ${index}: ${(result.reason as Error).message}`);
        continue;
      }
      await verifyThread(
        setupSaver,
        `client-${index}`,
        expectedValues(result.value, `c${index}`),
        recorder,
      );
    }
    recorder.note(`Postgres: ${clients} concurrent clients x ${puts} puts, one schema`);
  } finally {
    await setupSaver.close();
    await dropSchema(schema);
  }
}

interface TurnReply {
  type: string;
  doneSteps?: number;
  code?: string;
  message?: string;
}

/** Two processes alternate supersteps of one thread; all state travels through Postgres. */
async function turnTaking(recorder: ScenarioRecorder, turns: number): Promise<void> {
  const schema = uniqueSchema("turns");
  const env = cleanEnv({
    LG_CHECKPOINTER: "postgres",
    LG_BLOB_STORE: "postgres",
    LG_POSTGRES_URL: postgresUrl,
    LG_POSTGRES_SCHEMA: schema,
  });
  const labels = ["machine-a", "machine-b"];
  const machines = labels.map((label) =>
    fork(childProgram("pg-turn-taker"), [label, "shared-thread", String(turns), "turns"], {
      cwd: packageDir,
      env,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    }),
  );
  const stderr = labels.map(() => "");
  for (const [index, machine] of machines.entries()) {
    machine.stderr!.on("data", (chunk) => {
      stderr[index] += chunk;
    });
  }
  const nextReply = (index: number) =>
    new Promise<TurnReply>((resolve) => {
      const machine = machines[index]!;
      const onExit = () => resolve({ type: "error", message: `exited: ${tail(stderr[index]!)}` });
      machine.once("exit", onExit);
      machine.once("message", (reply: TurnReply) => {
        machine.off("exit", onExit);
        resolve(reply);
      });
    });
  try {
    const ready = await Promise.all(machines.map((_, index) => nextReply(index)));
    if (ready.some((reply) => reply.type !== "ready")) {
      recorder.failure(
        `turn takers did not start: ${ready.map((reply) => reply.message).join("; ")}`,
      );
      return;
    }
    for (let turn = 0; turn < turns; turn++) {
      recorder.trial();
      const index = turn % 2;
      const reply = nextReply(index);
      machines[index]!.send({ type: "turn" });
      const answer = await reply;
      if (answer.type !== "done") {
        recorder.failure(
          `turn ${turn} on ${labels[index]}: ${answer.code ?? ""} ${answer.message}`,
        );
        return;
      }
      if (answer.doneSteps !== turn + 1) {
        recorder.failure(
          `turn ${turn} on ${labels[index]} left done=${answer.doneSteps}, expected ${turn + 1}`,
        );
      }
    }
    const verifier = LeanPostgresSaver.fromConnString(postgresUrl, { schema });
    try {
      const tuple = await verifier.getTuple({ configurable: { thread_id: "shared-thread" } });
      const values = (tuple?.checkpoint.channel_values ?? {}) as {
        chunks?: Array<{ id: string; text: string }>;
        ranBy?: string[];
      };
      const chunks = new Map((values.chunks ?? []).map((chunk) => [chunk.id, chunk.text]));
      let lost = 0;
      for (let index = 0; index < turns * 2; index++) {
        const id = `chunk-${String(index).padStart(5, "0")}`;
        if (chunks.get(id) !== chunkText("turns", index)) lost += 1;
      }
      recorder.lost(lost, `turn-taking thread: ${lost} of ${turns * 2} chunks missing or wrong`);
      const duplicated = (values.chunks?.length ?? 0) - chunks.size;
      recorder.lost(duplicated, `turn-taking thread: ${duplicated} chunks duplicated`);
      const alternating = (values.ranBy ?? []).every((label, index) => label === labels[index % 2]);
      if (!alternating || values.ranBy?.length !== turns) {
        recorder.failure(`supersteps ran by ${JSON.stringify(values.ranBy)}; expected alternation`);
      }
    } finally {
      await verifier.close();
    }
    recorder.note(
      `Postgres + LG_BLOB_STORE=postgres: 2 processes alternated ${turns} supersteps of one thread`,
    );
  } finally {
    for (const machine of machines) {
      if (machine.connected) machine.send({ type: "exit" });
    }
    await Promise.all(
      machines.map(
        (machine) =>
          new Promise<void>((resolve) => {
            if (machine.exitCode !== null || machine.signalCode !== null) resolve();
            else {
              const timer = setTimeout(() => machine.kill("SIGKILL"), 10_000);
              machine.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
            }
          }),
      ),
    );
    await dropSchema(schema);
  }
}

/**
 * Many writers at once: processes on one SQLite file (WAL, busy timeout), clients on one Postgres
 * schema, and two processes taking turns on one thread through Postgres alone. Every checkpoint
 * written must be stored exactly once with its value, and no SQLITE_BUSY may reach the caller.
 */
export async function runConcurrencyScenario(
  options: ConcurrencyScenarioOptions = {},
): Promise<ScenarioResult> {
  const recorder = new ScenarioRecorder(
    "concurrency",
    "Concurrent writers: SQLite processes, Postgres clients, two processes sharing a thread",
  );
  await sqliteProcesses(recorder, options.sqliteProcesses ?? 4, options.putsPerProcess ?? 200);
  const unavailable = await postgresUnavailableReason();
  if (unavailable) {
    recorder.failure(`Postgres parts not run: ${unavailable}`);
    return recorder.finish();
  }
  await postgresClients(recorder, options.postgresClients ?? 16, options.putsPerClient ?? 25);
  await turnTaking(recorder, options.turns ?? 20);
  return recorder.finish();
}
