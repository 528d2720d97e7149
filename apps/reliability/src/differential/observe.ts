import { createHash } from "node:crypto";
import { isBaseMessage } from "@langchain/core/messages";
import type { StateSnapshotLike } from "./graphs.js";

/**
 * What a user observes of a run, with what legitimately differs between two runs taken out:
 * checkpoint ids become their position in creation order (`#3`), and every other uuid (task ids,
 * message ids) becomes `<uuid>` and interrupt ids `<hash>`. Everything else stays, key order included.
 */
export class Normalizer {
  readonly #ordinals = new Map<string, number>();

  /** Gives each id not seen before the next position; ids arrive in creation order (uuid6). */
  learn(checkpointIds: Iterable<string>): void {
    for (const id of [...checkpointIds].sort()) {
      if (!this.#ordinals.has(id)) this.#ordinals.set(id, this.#ordinals.size);
    }
  }

  ordinalOf(checkpointId: string): number | undefined {
    return this.#ordinals.get(checkpointId);
  }

  idOf(ordinal: number): string | undefined {
    for (const [id, known] of this.#ordinals) if (known === ordinal) return id;
    return undefined;
  }

  value(value: unknown): unknown {
    return this.#normalize(value, 0);
  }

  snapshot(snapshot: StateSnapshotLike) {
    return {
      values: this.value(snapshot.values),
      next: [...snapshot.next],
      tasks: snapshot.tasks.map((task) => {
        const { name, path, error, interrupts, result } = task as {
          name: string;
          path?: unknown;
          error?: unknown;
          interrupts?: { value?: unknown }[];
          result?: unknown;
        };
        return this.value({
          name,
          path,
          error: error === undefined ? undefined : String((error as Error).message ?? error),
          interrupts: (interrupts ?? []).map((pending) => pending.value),
          result,
        });
      }),
      metadata: this.value(snapshot.metadata),
      checkpoint: this.#configId(snapshot.config),
      parent: this.#configId(snapshot.parentConfig),
    };
  }

  error(error: unknown): { error: string; message: string } {
    const failure = error as Error;
    return {
      error: failure?.constructor?.name ?? typeof error,
      message: this.value(String(failure?.message ?? error)) as string,
    };
  }

  #configId(config: { configurable?: Record<string, unknown> } | undefined) {
    const configurable = config?.configurable;
    if (configurable === undefined) return null;
    return this.value({
      checkpoint_ns: configurable.checkpoint_ns,
      checkpoint_id: configurable.checkpoint_id,
    });
  }

  #normalize(value: unknown, depth: number): unknown {
    if (depth > 50) return "<too deep>";
    if (typeof value === "string") return this.#string(value);
    if (value === null || typeof value !== "object") return value;
    if (isBaseMessage(value)) {
      return {
        message: value.getType(),
        content: this.#normalize(value.content, depth + 1),
        name: value.name,
      };
    }
    if (Array.isArray(value)) return value.map((item) => this.#normalize(item, depth + 1));
    if (value instanceof Map) {
      return { map: [...value].map((entry) => this.#normalize(entry, depth + 1)) };
    }
    if (value instanceof Set)
      return { set: [...value].map((item) => this.#normalize(item, depth + 1)) };
    if (value instanceof Date) return { date: value.toISOString() };
    const prototype = Object.getPrototypeOf(value);
    const className =
      prototype === Object.prototype || prototype === null
        ? undefined
        : prototype?.constructor?.name;
    const entries = Object.entries(value).map(([key, inner]) => [
      this.#string(key),
      this.#normalize(inner, depth + 1),
    ]);
    return className === undefined
      ? Object.fromEntries(entries)
      : { class: className, ...Object.fromEntries(entries) };
  }

  #string(text: string): string {
    const ordinal = this.#ordinals.get(text);
    if (ordinal !== undefined) return `#${ordinal}`;
    // Long texts are the fuzzer's own content (ids are short): compare them by digest, unscanned.
    if (text.length > 200) {
      return `<${text.length} chars ${createHash("sha256").update(text).digest("hex").slice(0, 16)}>`;
    }
    const replaced = text.replace(
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi,
      (uuid) => {
        const known = this.#ordinals.get(uuid);
        return known === undefined ? "<uuid>" : `#${known}`;
      },
    );
    // Interrupt ids are hashes of the task's checkpoint namespace: per run, like task ids.
    if (/^[0-9a-f]{32}$/.test(replaced)) return "<hash>";
    return replaced;
  }
}
