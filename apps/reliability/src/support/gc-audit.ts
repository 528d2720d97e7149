import type { GcReport, LeanCheckpointSaver } from "@leangraph/checkpointer";
import { checkReferences, storageBreakdown } from "@leangraph/checkpointer/inspect";

/**
 * A clean gc, checked against the one liveness walk (the saver's `garbage()`, core/reachability
 * in @leangraph/checkpointer): gc deletes exactly what `garbage()` said it would (the dry run a
 * user sees as `leangraph gc --dry-run`), leaves no orphan behind (inspect's report), and every
 * root still reaches whole content: checkpoint rows, pending writes, the DeltaChannel history a
 * prune retained, and copied threads (verify's reference walk). Returns the first problem.
 */
export async function auditedGc(
  saver: LeanCheckpointSaver,
): Promise<{ report: GcReport; problem: string | undefined }> {
  const planned = await saver.garbage({ graceMs: 0 });
  const report = await saver.gc({ graceMs: 0 });
  const problems: string[] = [];
  if (report.deletedItems !== planned.deadItems)
    problems.push(`gc deleted ${report.deletedItems} items; garbage() said ${planned.deadItems}`);
  if (report.deletedBlobs !== planned.collectableBlobs.length)
    problems.push(
      `gc deleted ${report.deletedBlobs} blobs; garbage() said ${planned.collectableBlobs.length}`,
    );
  const after = await saver.garbage({ graceMs: 0 });
  if (after.deadItems + after.orphanBlobs.length > 0)
    problems.push(
      `after gc: ${after.deadItems} dead items and ${after.orphanBlobs.length} orphan blobs left`,
    );
  const inspected = await storageBreakdown(saver);
  if (inspected.orphanBlobs.length > 0 || inspected.missingPieces > 0)
    problems.push(
      `after gc, inspect reports ${inspected.orphanBlobs.length} orphan blobs and ${inspected.missingPieces} missing pieces`,
    );
  const references = await checkReferences(saver);
  const first = references.damaged[0];
  if (first !== undefined)
    problems.push(
      `after gc, ${references.damaged.length} referenced pieces are damaged; first: ${first.kind} ${first.id} ${first.problem}, from ${first.reference} of ${first.threadId}/${first.checkpointId}`,
    );
  return { report, problem: problems.length > 0 ? problems.join("; ") : undefined };
}
