import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { LeanCheckpointSaver } from "@leangraph/checkpointer";
import { queryOnce } from "@leangraph/test-postgres";
import type Database from "better-sqlite3";

/** What a store looks like after `gc`: the crash and write-failure scenarios assert all zeros. */
export interface StorageAudit {
  /** Blobs in the store that no item row names (a crash leftover gc should have reclaimed). */
  orphanBlobs: number;
  /** Item rows that say "in the blob store" whose blob is not there. */
  missingBlobs: number;
  /** Checkpoints of the audited threads that fail to load. */
  unloadableCheckpoints: number;
  checkpoints: number;
  blobs: number;
  firstProblem: string | undefined;
}

/** `PRAGMA integrity_check` returns the single row "ok" on a sound database. */
export function sqliteIntegrity(db: Database.Database): string {
  const rows = db.pragma("integrity_check") as Array<{ integrity_check: string }>;
  return rows.map((row) => row.integrity_check).join("; ");
}

export async function blobItemIdsSqlite(db: Database.Database): Promise<Set<string>> {
  const rows = db
    .prepare("SELECT lower(hex(id)) AS id FROM lg_items WHERE in_blob_store = 1")
    .all() as Array<{
    id: string;
  }>;
  return new Set(rows.map((row) => row.id));
}

export async function blobItemIdsPostgres(schema: string): Promise<Set<string>> {
  const rows = await queryOnce<{ id: string }>(
    `SELECT id FROM "${schema}".lg_items WHERE in_blob_store`,
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * Compares the blob store with the item rows and loads every checkpoint of `threadIds` (values
 * included), so a row pointing at nothing shows up here instead of in a user's resume.
 */
export async function auditStorage(
  saver: LeanCheckpointSaver,
  blobItemIds: Set<string>,
  threadIds: string[],
): Promise<StorageAudit> {
  const audit: StorageAudit = {
    orphanBlobs: 0,
    missingBlobs: 0,
    unloadableCheckpoints: 0,
    checkpoints: 0,
    blobs: 0,
    firstProblem: undefined,
  };
  const problem = (text: string) => {
    audit.firstProblem ??= text;
  };
  const stored = new Set<string>();
  for await (const id of saver.blobStore.list()) stored.add(id);
  audit.blobs = stored.size;
  for (const id of stored) {
    if (!blobItemIds.has(id)) {
      audit.orphanBlobs += 1;
      problem(`orphan blob ${id}`);
    }
  }
  for (const id of blobItemIds) {
    if (!stored.has(id)) {
      audit.missingBlobs += 1;
      problem(`missing blob ${id}`);
    }
  }
  for (const threadId of threadIds) {
    const loaded = await loadEveryCheckpoint(saver, threadId);
    audit.checkpoints += loaded.count;
    audit.unloadableCheckpoints += loaded.failures.length;
    if (loaded.failures[0]) problem(loaded.failures[0]);
  }
  return audit;
}

/** Lists a thread's checkpoints one by one, decoding each; a failing one is counted, not fatal. */
export async function loadEveryCheckpoint(
  saver: BaseCheckpointSaver,
  threadId: string,
): Promise<{ count: number; failures: string[] }> {
  const failures: string[] = [];
  const ids: Array<{ ns: string; id: string }> = [];
  // list() decodes too; collect ids first, then load each on its own so one bad checkpoint does
  // not hide the others.
  try {
    for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) {
      const { checkpoint_ns: ns, checkpoint_id: id } = tuple.config.configurable ?? {};
      ids.push({ ns: String(ns ?? ""), id: String(id) });
    }
  } catch (error) {
    failures.push(`list(${threadId}) failed: ${(error as Error).message}`);
    return { count: ids.length, failures };
  }
  for (const { ns, id } of ids) {
    try {
      const tuple = await saver.getTuple({
        configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: id },
      });
      if (!tuple) failures.push(`checkpoint ${id} listed but not found`);
    } catch (error) {
      failures.push(`checkpoint ${id}: ${(error as Error).message}`);
    }
  }
  return { count: ids.length, failures };
}
