import {
  type BaseCheckpointSaver,
  type Checkpoint,
  emptyCheckpoint,
  uuid6,
} from "@langchain/langgraph-checkpoint";

/**
 * Writes a chain of checkpoints straight through a saver (no graph), the way LangGraph does:
 * put the checkpoint with its parent's id, then the task's pending writes. Every seventh value is
 * large enough (80 KB) to become a blob and every seventh from the fourth (4 KB) an item row, so puts race on the blob store as well as on the rows.
 */
export async function putChain(
  saver: BaseCheckpointSaver,
  options: { threadId: string; puts: number; label: string; clockSeq: number },
): Promise<string[]> {
  const ids: string[] = [];
  let parentId: string | undefined;
  for (let index = 0; index < options.puts; index++) {
    const checkpoint: Checkpoint = {
      ...emptyCheckpoint(),
      id: uuid6(options.clockSeq),
      channel_values: { note: valueFor(options.label, index) },
      channel_versions: { note: index + 1 },
    };
    const config = await saver.put(
      {
        configurable: {
          thread_id: options.threadId,
          checkpoint_ns: "",
          ...(parentId ? { checkpoint_id: parentId } : {}),
        },
      },
      checkpoint,
      { source: "loop", step: index, parents: {} },
      { note: index + 1 },
    );
    await saver.putWrites(
      config,
      [["note", valueFor(`${options.label}-write`, index)]],
      `task-${index}`,
    );
    parentId = checkpoint.id;
    ids.push(checkpoint.id);
  }
  return ids;
}

export function valueFor(label: string, index: number): string {
  const text = `${label}:${index}:`;
  if (index % 7 === 6) return text.padEnd(80 * 1024, "x");
  // Between the inline limit (256 B) and the blob threshold (64 KB): an item row in the DB.
  if (index % 7 === 3) return text.padEnd(4 * 1024, "y");
  return text;
}
