import type { CommandName } from "./arguments/command-line.js";

const databaseHelp = `<database> is a SQLite file (stock SqliteSaver or LeanSqliteSaver) or a postgres:// URL
(stock PostgresSaver or LeanPostgresSaver; --schema picks the schema, default public).
Lean stores: a SQLite file keeps blobs in <file>.blobs (--blob-dir overrides); Postgres keeps
them in the database (--blob-store postgres, default) or a directory (--blob-store fs --blob-dir DIR).`;

export const commandHelp: Record<CommandName, string> = {
  inspect: `leangraph inspect <database> [--schema S] [--top N] [--json]

What makes the database big: threads, checkpoints and writes per thread, bytes per thread and
per channel, the largest values with their path in state (files[17], messages[41].content) and,
for lean stores, orphan blobs. Largest first. Works on stock and lean databases.
  --top N      rows per table (default 10, at most 1000)
  --kind K     stock or lean, when one Postgres schema holds both (default lean)`,
  import: `leangraph import --from <stock database> --to <lean database> [--from-schema S] [--to-schema S]
                 [--blob-store fs|postgres] [--blob-dir DIR] [--json]

Copies every thread with its whole history (checkpoints, metadata, pending writes, parent links,
namespaces) from a stock SqliteSaver / PostgresSaver database into a lean one, then checks that
getTuple and list read back equal for every thread. Never writes to the source. Bounded memory.
Killed or interrupted, rerun the same command: it continues where it stopped.`,
  verify: `leangraph verify <lean database> [--schema S] [--json]

Decodes every checkpoint and its pending writes and reads every blob, checking each hash.
Exits 1 and names every damaged item (thread, checkpoint, channel or write, item or blob id).`,
  compact: `leangraph compact <lean database> [--schema S] [--json]

Rewrites item and blob bodies stored uncompressed (written before compression, or with
LG_COMPRESSION=off) compressed as LG_COMPRESSION and LG_COMPRESSION_LEVEL say. Ids and values do
not change, so a running application reads on. Killed or interrupted, rerun the same command:
what is already compressed is skipped.`,
  stats: `leangraph stats <database> [--schema S] [--kind stock|lean] [--json]

Bytes on disk, checkpoints, threads and writes (lean: also blobs and the largest row).`,
  gc: `leangraph gc <lean database> [--grace 1h] [--dry-run] [--json]

Deletes items and blobs that no checkpoint or write reaches. Blobs without an item row are deleted
only when older than --grace (default 1h), so a put in flight elsewhere is never robbed.`,
  prune: `leangraph prune <lean database> [--keep-last N] [--older-than 30d] [--thread ID …] [--dry-run] [--json]

Deletes old checkpoints (and their writes) of every thread, or only of the --thread ids given
(repeat the flag). A checkpoint goes when it is not among the newest N of its namespace AND (with
--older-than) it is older than that. --older-than alone keeps the newest checkpoint of each
namespace (as --keep-last 1); say --keep-last 0 to allow whole threads to go.
Durations: 500ms, 90s, 15m, 1h, 30d, 2w.`,
  rekey: `leangraph rekey <lean database> [--schema S] [--adopt-plaintext] [--json]

Seals every row payload, database item body and blob under the first key of LG_ENCRYPTION_KEYS
(required): after rotation (put the new key first, keep the old one listed, rekey, then remove
the old key), or with --adopt-plaintext to move a database written without encryption to it
(without that flag a plaintext row stops the run: one planted by hand is never adopted).
Interrupted or killed, rerun the same command: what is already under the current key is skipped.`,
};

export const generalHelp = `Usage: leangraph <command> [options]

Commands:
  inspect <database>            what makes a checkpoint database big (stock or lean)
  import --from A --to B        move a stock SqliteSaver/PostgresSaver database into a lean saver
  verify <lean database>        every reference resolves, every hash matches
  stats <database>              bytes, checkpoints, threads, writes, blobs
  gc <lean database>            delete what nothing reaches
  compact <lean database>       compress bodies stored before compression
  prune <lean database>         delete old checkpoints (--keep-last, --older-than)
  rekey <lean database>         encrypt under the newest key of LG_ENCRYPTION_KEYS

Every command takes --json (a machine-readable report on stdout; progress stays on stderr).
Run \`leangraph help <command>\` for its options.

${databaseHelp}

Exit codes: 0 ok; 1 problems found or the operation failed; 2 bad usage (unknown flag, value
not accepted, no such database); 130 interrupted by Ctrl-C (nothing half-written; rerun to continue).`;

export function helpText(topic: string | undefined): string {
  if (topic !== undefined && topic in commandHelp) {
    return `${commandHelp[topic as CommandName]}\n\n${databaseHelp}`;
  }
  return generalHelp;
}
