import { LeangraphError } from "@leangraph/serde";
import { postgresUnavailableReason } from "@leangraph/test-postgres";
import { FaultCounter } from "../faults/fault-counter.js";
import {
  readStore,
  type StoreState,
  type SweepOperation,
  seedFixture,
  sweepOperations,
} from "../faults/sweep-operations.js";
import {
  describeLayer,
  type FaultLayer,
  postgresBackend,
  type SweepBackend,
  type SweepStore,
  sqliteBackend,
} from "../faults/sweep-stores.js";
import { auditedGc } from "../support/gc-audit.js";
import {
  describeError,
  ScenarioRecorder,
  type ScenarioResult,
  TrialFailure,
} from "../support/scenario-result.js";

export interface FaultSweepOptions {
  /** @default every operation */
  operations?: string[];
  /** @default both, plain ("sqlite-encrypted" and "postgres-encrypted" seal every payload and body) */
  backends?: ("sqlite" | "postgres" | "sqlite-encrypted" | "postgres-encrypted")[];
  /**
   * At most this many positions per operation, backend and fault layer, spread evenly over all
   * of them (first and last included); undefined tries every position.
   */
  positionsPerCase?: number;
}

/** What a fault-free run of one operation leaves, to judge each faulty run against. */
interface Reference {
  positions: number;
  before: StoreState;
  after: StoreState;
  result: string | undefined;
  blobsBefore: string[];
  blobsAfter: string[];
}

async function blobIds(store: SweepStore): Promise<string[]> {
  const opened = await store.open();
  try {
    const ids: string[] = [];
    for await (const id of opened.blobStore.list()) ids.push(id);
    return ids.sort();
  } finally {
    await opened.close();
  }
}

async function readHealthy(store: SweepStore): Promise<StoreState> {
  const opened = await store.open();
  try {
    return await readStore(opened.saver);
  } finally {
    await opened.close();
  }
}

async function cleanGc(store: SweepStore): Promise<void> {
  const opened = await store.open();
  try {
    const { problem } = await auditedGc(opened.saver);
    if (problem !== undefined) throw new TrialFailure(`clean gc: ${problem}`);
  } finally {
    await opened.close();
  }
}

/**
 * The fixture each trial starts from: seeded once per backend (or the 4a0dddc database), then
 * copied for every trial, so checkpoint ids, rows and blobs are the same in every run.
 */
class Templates {
  readonly #stores = new Map<string, Promise<SweepStore>>();

  async fresh(backend: SweepBackend, operation: SweepOperation): Promise<SweepStore> {
    const key = `${backend.name}:${operation.fixture}`;
    let template = this.#stores.get(key);
    if (template === undefined) {
      template = this.#create(backend, operation);
      this.#stores.set(key, template);
    }
    return (await template).clone();
  }

  async #create(backend: SweepBackend, operation: SweepOperation): Promise<SweepStore> {
    const store = await backend.createStore(operation.fixture === "legacy" ? "legacy" : "empty");
    if (operation.fixture === "seeded") {
      const opened = await store.open();
      try {
        await seedFixture(opened.saver);
      } finally {
        await opened.close();
      }
    }
    return store;
  }

  async drop(): Promise<void> {
    for (const store of this.#stores.values()) await (await store).drop();
  }
}

/** Runs `operation` on `store` with `layer` failing its `failAt`-th operation (none: count only). */
async function runWithFault(
  store: SweepStore,
  operation: SweepOperation,
  layer: FaultLayer,
  failAt: number | undefined,
) {
  const counter = new FaultCounter();
  const opened = await store.open({ at: layer, counter });
  try {
    // setup() is the migration itself for the legacy fixture; elsewhere it is done unarmed.
    if (operation.fixture !== "legacy") await opened.saver.setup();
    const prepared = await operation.prepare?.(opened.saver);
    counter.arm(failAt);
    let outcome:
      | { resolved: true; result: string | undefined }
      | { resolved: false; error: unknown };
    try {
      outcome = { resolved: true, result: await operation.run(opened.saver, prepared) };
    } catch (error) {
      outcome = { resolved: false, error };
    }
    const positions = counter.count;
    // A fault is transient: the same saver must carry on, reading and writing, once it is over.
    counter.arm(undefined);
    let recovered: StoreState | Error;
    try {
      await opened.saver.deleteThread("no-such-thread");
      recovered = await readStore(opened.saver);
    } catch (error) {
      recovered = error as Error;
    }
    return { ...outcome, positions, recovered };
  } finally {
    await opened.close();
  }
}

async function reference(
  templates: Templates,
  backend: SweepBackend,
  operation: SweepOperation,
  layer: FaultLayer,
): Promise<Reference> {
  const untouched = await templates.fresh(backend, operation);
  try {
    // A legacy database cannot be read before it is migrated: reading it is the migration.
    const before = operation.fixture === "legacy" ? undefined : await readHealthy(untouched);
    await cleanGc(untouched);
    const blobsBefore = await blobIds(untouched);
    const store = await templates.fresh(backend, operation);
    try {
      const run = await runWithFault(store, operation, layer, undefined);
      if (!run.resolved) throw new Error(`the fault-free run failed: ${describeError(run.error)}`);
      const after = await readHealthy(store);
      await cleanGc(store);
      return {
        positions: run.positions,
        before: before ?? after,
        after,
        result: run.result,
        blobsBefore: operation.fixture === "legacy" ? await blobIds(store) : blobsBefore,
        blobsAfter: await blobIds(store),
      };
    } finally {
      await store.drop();
    }
  } finally {
    await untouched.drop();
  }
}

function sameState(left: StoreState, right: StoreState): boolean {
  return left.size === right.size && [...left].every(([key, value]) => right.get(key) === value);
}

/** Names what is wrong with `state` for an operation of this atomicity, or undefined. */
function judgeState(
  operation: SweepOperation,
  state: StoreState,
  expected: Reference,
): { verdict?: string; matched: "before" | "after" | "partial" } {
  if (sameState(state, expected.after)) return { matched: "after" };
  if (operation.atomicity !== "unchanged" && sameState(state, expected.before)) {
    return { matched: "before" };
  }
  if (operation.atomicity === "per-checkpoint") {
    for (const [key, value] of state) {
      if (expected.before.get(key) !== value) {
        return { verdict: `checkpoint ${key} reads differently`, matched: "partial" };
      }
    }
    for (const key of expected.before.keys()) {
      if (!state.has(key) && expected.after.has(key)) {
        return {
          verdict: `checkpoint ${key} is gone, and a fault-free run keeps it`,
          matched: "partial",
        };
      }
    }
    return { matched: "partial" };
  }
  const missing = [...expected.before.keys()].filter((key) => !state.has(key)).length;
  const differing = [...state].filter(([key, value]) => {
    const was = expected.before.get(key);
    return was !== undefined && was !== value;
  }).length;
  return {
    verdict: `the store is neither as before nor as after (${missing} checkpoint(s) missing, ${differing} reading differently)`,
    matched: "partial",
  };
}

function positionsToTry(count: number, limit: number | undefined): number[] {
  const all = Array.from({ length: count }, (_, index) => index + 1);
  if (limit === undefined || count <= limit) return all;
  const picked = new Set<number>();
  for (let index = 0; index < limit; index += 1) {
    picked.add(1 + Math.round((index * (count - 1)) / Math.max(1, limit - 1)));
  }
  return [...picked].sort((left, right) => left - right);
}

/**
 * Issue 11's fault sweep: for each operation, backend and fault layer, a fault-free run counts
 * the operations the layer performs; then each position fails in turn on a fresh copy of the
 * fixture. Every run must resolve (with the fault-free result) or reject with a coded error; a
 * fresh saver on healthy storage must read every checkpoint as before or as after the
 * operation; and a clean gc must then leave exactly the blobs that state needs.
 */
export async function runFaultSweepScenario(
  options: FaultSweepOptions = {},
): Promise<ScenarioResult> {
  const recorder = new ScenarioRecorder(
    "fault-sweep",
    "Every-position I/O faults (database connection, blob store) across put, putWrites, getTuple, list, gc, prune, deleteThread, copyThread and the migration; nothing lost or misread",
  );
  const operations = sweepOperations.filter(
    (operation) => options.operations === undefined || options.operations.includes(operation.name),
  );
  const backends: SweepBackend[] = [];
  const wanted = options.backends ?? ["sqlite", "postgres"];
  if (wanted.includes("sqlite")) backends.push(sqliteBackend());
  if (wanted.includes("sqlite-encrypted")) backends.push(sqliteBackend(true));
  const postgresWanted = wanted.filter((name) => name.startsWith("postgres"));
  if (postgresWanted.length > 0) {
    const unavailable = await postgresUnavailableReason();
    if (unavailable === undefined) {
      for (const name of postgresWanted)
        backends.push(await postgresBackend(name === "postgres-encrypted"));
    } else if (process.env.CI === "true") return recorder.skip(unavailable);
    else recorder.note(`Postgres skipped: ${unavailable}`);
  }
  let coded = 0;
  let resolved = 0;
  const templates = new Templates();
  try {
    for (const backend of backends) {
      // The 4a0dddc database was written plain; an encrypted saver refuses it, by design.
      for (const operation of operations.filter(
        (candidate) => !(backend.encrypted && candidate.fixture === "legacy"),
      )) {
        const perLayer: string[] = [];
        for (const layer of backend.layers) {
          const label = `${backend.name} ${operation.name}, ${describeLayer(layer)}`;
          let expected: Reference;
          try {
            expected = await reference(templates, backend, operation, layer);
          } catch (error) {
            recorder.trial();
            recorder.failure(`${label}: ${describeError(error)}`);
            continue;
          }
          const positions = positionsToTry(expected.positions, options.positionsPerCase);
          perLayer.push(`${describeLayer(layer)} ${positions.length}/${expected.positions}`);
          for (const position of positions) {
            await recorder.check(`${label}, fault at ${position}`, async () => {
              const store = await templates.fresh(backend, operation);
              try {
                const run = await runWithFault(store, operation, layer, position);
                if (run.resolved) {
                  resolved += 1;
                  if (run.result !== expected.result) {
                    throw new TrialFailure(
                      "resolved with a result that differs from the fault-free run",
                    );
                  }
                } else if (
                  !(run.error instanceof LeangraphError) ||
                  !run.error.code.startsWith("ERR_LG_")
                ) {
                  throw new TrialFailure(`rejected without a code: ${describeError(run.error)}`);
                } else {
                  coded += 1;
                }
                let state: StoreState;
                try {
                  state = await readHealthy(store);
                } catch (error) {
                  recorder.lost(
                    1,
                    `${label}, fault at ${position}: a healthy read failed: ${describeError(error)}`,
                  );
                  return;
                }
                if (run.recovered instanceof Error) {
                  throw new TrialFailure(
                    `the saver did not carry on after the fault: ${describeError(run.recovered)}`,
                  );
                }
                if (!sameState(run.recovered, state)) {
                  throw new TrialFailure(
                    "the saver that saw the fault reads differently from a fresh one",
                  );
                }
                const judged = judgeState(operation, state, expected);
                if (judged.verdict !== undefined) throw new TrialFailure(judged.verdict);
                if (run.resolved && judged.matched !== "after") {
                  throw new TrialFailure(
                    "resolved, but the store is not as after a fault-free run",
                  );
                }
                await cleanGc(store);
                const blobs = await blobIds(store);
                const wantedBlobs =
                  judged.matched === "after"
                    ? expected.blobsAfter
                    : judged.matched === "before"
                      ? expected.blobsBefore
                      : undefined;
                if (wantedBlobs !== undefined && blobs.join() !== wantedBlobs.join()) {
                  throw new TrialFailure(
                    `after a clean gc ${blobs.length} blob(s) remain, the same state needs exactly ${wantedBlobs.length}`,
                  );
                }
                // Every checkpoint still reads after the clean gc (it deleted nothing needed).
                if (!sameState(await readHealthy(store), state)) {
                  throw new TrialFailure("the clean gc changed what a checkpoint reads");
                }
              } finally {
                await store.drop();
              }
            });
          }
        }
        recorder.note(`${backend.name} ${operation.name}: positions tried ${perLayer.join(", ")}`);
      }
    }
  } finally {
    await templates.drop();
    for (const backend of backends) await backend.close();
  }
  recorder.note(
    `outcomes: ${resolved} resolved with the fault-free result, ${coded} rejected with a coded error`,
  );
  return recorder.finish();
}
