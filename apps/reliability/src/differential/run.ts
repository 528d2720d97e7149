import { Command } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { auditedGc } from "../support/gc-audit.js";
import { buildGraph, type FuzzedGraph, inputFor, type StateSnapshotLike } from "./graphs.js";
import { Normalizer } from "./observe.js";
import type { Operation, Sequence } from "./operations.js";

/**
 * Runs one sequence on one saver and returns what a user observes after each operation.
 *
 * The reference side is MemorySaver, which has no `prune`, `copyThread` or `gc`: there the
 * reference is the same run without them. Prune is replayed as bookkeeping (the checkpoints it
 * removes are hidden from every later read, as they are gone on the lean saver); a copy is
 * observed as the thread it copies at that moment; gc observes nothing new.
 */
export async function runSequence(
  sequence: Sequence,
  checkpointer: BaseCheckpointSaver,
  lean: LeanCheckpointSaver | undefined,
  threadId: string,
): Promise<unknown[]> {
  const run = new SequenceRun(sequence, checkpointer, lean, threadId);
  const observations: unknown[] = [];
  for (const [index, operation] of sequence.operations.entries()) {
    observations.push({ operation: index, ...(await run.apply(operation)) });
  }
  observations.push({ end: await run.finalHistories() });
  return observations;
}

interface StoredCheckpoint {
  id: string;
  ns: string;
  parentId: string | undefined;
}

class SequenceRun {
  readonly #graph: FuzzedGraph;
  readonly #normalizer = new Normalizer();
  /** Reference only: checkpoints the lean saver's prune removed, hidden from every read after. */
  readonly #pruned = new Set<string>();
  /** Per copy made: its thread on the lean saver, or what the reference observed when it was made. */
  readonly #copies: { threadId: string; referenceHistory?: unknown }[] = [];

  constructor(
    readonly sequence: Sequence,
    readonly checkpointer: BaseCheckpointSaver,
    readonly lean: LeanCheckpointSaver | undefined,
    readonly threadId: string,
  ) {
    this.#graph = buildGraph(sequence.graph, checkpointer);
  }

  #config(threadId = this.threadId, checkpointId?: string) {
    return {
      configurable: {
        thread_id: threadId,
        checkpoint_ns: "",
        ...(checkpointId === undefined ? {} : { checkpoint_id: checkpointId }),
      },
    };
  }

  async #stored(threadId = this.threadId): Promise<StoredCheckpoint[]> {
    const stored: StoredCheckpoint[] = [];
    for await (const tuple of this.checkpointer.list({ configurable: { thread_id: threadId } })) {
      stored.push({
        id: tuple.checkpoint.id,
        ns: String(tuple.config.configurable?.checkpoint_ns ?? ""),
        parentId: tuple.parentConfig?.configurable?.checkpoint_id as string | undefined,
      });
    }
    this.#normalizer.learn(stored.map((checkpoint) => checkpoint.id));
    return stored.filter((checkpoint) => !this.#pruned.has(checkpoint.id));
  }

  /** Root-namespace checkpoints still stored, oldest first: what `at` positions index. */
  async #rootCheckpoints(): Promise<string[]> {
    return (await this.#stored())
      .filter((checkpoint) => checkpoint.ns === "")
      .map((checkpoint) => checkpoint.id)
      .sort();
  }

  async #configAt(at: number | null) {
    if (at === null) return this.#config();
    const roots = await this.#rootCheckpoints();
    return roots.length === 0
      ? this.#config()
      : this.#config(this.threadId, roots[at % roots.length]);
  }

  async #history(
    threadId: string,
    options: { limit?: number; before?: object; filter?: Record<string, unknown> } = {},
  ) {
    const { limit, ...unlimited } = options;
    const snapshots: StateSnapshotLike[] = [];
    // The reference hides pruned checkpoints itself, so it applies the limit after hiding them.
    const asked = this.lean === undefined ? unlimited : options;
    for await (const snapshot of this.#graph.getStateHistory(this.#config(threadId), asked)) {
      const id = snapshot.config.configurable?.checkpoint_id as string;
      if (!this.#pruned.has(id)) snapshots.push(snapshot);
    }
    const kept = limit === undefined ? snapshots : snapshots.slice(0, limit);
    return kept.map((snapshot) => this.#normalizer.snapshot(snapshot));
  }

  async apply(operation: Operation): Promise<Record<string, unknown>> {
    let result: unknown;
    try {
      result = await this.#perform(operation);
    } catch (error) {
      result = this.#normalizer.error(error);
    }
    const stored = await this.#stored();
    const tree = stored
      .map((checkpoint) => ({
        at: this.#normalizer.value(checkpoint.id),
        ns: this.#normalizer.value(checkpoint.ns),
        parent:
          checkpoint.parentId === undefined ? null : this.#normalizer.value(checkpoint.parentId),
      }))
      .sort((left, right) => String(left.at).localeCompare(String(right.at)));
    let state: unknown;
    try {
      state = this.#normalizer.snapshot(await this.#graph.getState(this.#config()));
    } catch (error) {
      state = this.#normalizer.error(error);
    }
    return { result: this.#normalizer.value(result), state, tree };
  }

  async #perform(operation: Operation): Promise<unknown> {
    const kind = this.sequence.graph;
    switch (operation.kind) {
      case "invoke":
        return this.#graph.invoke(
          operation.input === null ? null : inputFor(kind, operation.input),
          this.#config(),
        );
      case "stream": {
        const chunks: unknown[] = [];
        const stream = await this.#graph.stream(inputFor(kind, operation.input), {
          ...this.#config(),
          streamMode: ["values", "updates"],
        });
        for await (const chunk of stream) chunks.push(chunk);
        return chunks;
      }
      case "resume":
        return this.#graph.invoke(new Command({ resume: operation.answer }), this.#config());
      case "updateState": {
        const values = operation.values === null ? {} : inputFor(kind, operation.values);
        const config = await this.#graph.updateState(
          await this.#configAt(operation.at),
          values,
          operation.asNode ?? undefined,
        );
        await this.#stored(); // learn the new checkpoint's id before normalizing it
        return config;
      }
      case "fork":
        return this.#graph.invoke(
          operation.input === null ? null : inputFor(kind, operation.input),
          await this.#configAt(operation.at),
        );
      case "history": {
        const before =
          operation.beforeAt === null ? undefined : await this.#configAt(operation.beforeAt);
        return this.#history(this.threadId, {
          ...(operation.limit === null ? {} : { limit: operation.limit }),
          ...(before === undefined ? {} : { before }),
          ...(operation.filter === null ? {} : { filter: operation.filter }),
        });
      }
      case "copyThread":
        return this.#copy();
      case "prune":
        return this.#prune(operation.keepLast);
      case "deleteThread":
        await this.checkpointer.deleteThread(this.threadId);
        return "deleted";
      case "gc":
        if (this.lean !== undefined) {
          // gc must agree with the one liveness walk and keep every root whole (retained
          // history, copies, pending writes): a disagreement fails the sequence.
          const { problem } = await auditedGc(this.lean);
          if (problem !== undefined) throw new Error(`gc: ${problem}`);
        }
        return "collected";
    }
  }

  async #copy(): Promise<unknown> {
    const copyThreadId = `${this.threadId}-copy${this.#copies.length}`;
    if (this.lean === undefined) {
      // A copy's checkpoints say which thread they belong to, as LangGraph writes `thread_id`
      // into the metadata of every checkpoint it puts: the copy names the copy.
      const referenceHistory = (await this.#history(this.threadId)).map((snapshot) => {
        const metadata = snapshot.metadata as Record<string, unknown> | undefined;
        return metadata?.thread_id === this.threadId
          ? { ...snapshot, metadata: { ...metadata, thread_id: copyThreadId } }
          : snapshot;
      });
      this.#copies.push({ threadId: copyThreadId, referenceHistory });
      return referenceHistory;
    }
    await this.lean.copyThread(this.threadId, copyThreadId);
    this.#copies.push({ threadId: copyThreadId });
    await this.#stored(copyThreadId);
    return this.#history(copyThreadId);
  }

  /** Lean: prune. Reference: hide what a keepLast prune removes (the newest N per namespace stay). */
  async #prune(keepLast: number): Promise<unknown> {
    if (this.lean !== undefined) {
      const report = await this.lean.prune([this.threadId], { keepLast });
      return { deletedCheckpoints: report.deletedCheckpoints };
    }
    const byNamespace = new Map<string, string[]>();
    for (const checkpoint of await this.#stored()) {
      byNamespace.set(checkpoint.ns, [...(byNamespace.get(checkpoint.ns) ?? []), checkpoint.id]);
    }
    let deletedCheckpoints = 0;
    for (const ids of byNamespace.values()) {
      for (const id of ids.sort().reverse().slice(keepLast)) {
        this.#pruned.add(id);
        deletedCheckpoints += 1;
      }
    }
    return { deletedCheckpoints };
  }

  /** The whole history of the thread and of every copy, read again at the end (after any gc). */
  async finalHistories(): Promise<unknown> {
    const copies = [];
    for (const copy of this.#copies) {
      copies.push(copy.referenceHistory ?? (await this.#history(copy.threadId)));
    }
    return { thread: await this.#history(this.threadId), copies };
  }
}
