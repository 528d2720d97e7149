import type pg from "pg";

/*
 * Parts are ~8 KB, so a 100 MB blob is ~13,000 rows: one INSERT per row would spend the put on
 * round trips. A multi-row VALUES list with one binary Buffer parameter per row keeps bytes
 * unescaped (an unnest($n::bytea[]) parameter would travel as hex text, twice the size), and 512
 * rows (~4 MB) per statement bounds the memory a batch holds.
 */
const rowsPerInsert = 512;

function insertPartsSql(s: string, rows: number): string {
  const values = Array.from({ length: rows }, (_, row) => `($1, $${2 * row + 2}, $${2 * row + 3})`);
  return `INSERT INTO ${s}.lg_blob_parts (blob_key, seq, bytes) VALUES ${values.join(", ")}`;
}

/** Appends one blob's parts under one key, seq 0, 1, 2, …, batched into multi-row INSERTs. */
export interface PartWriter {
  append(part: Buffer): Promise<void>;
  /** Writes what is still batched; returns the key and how many parts were written in all. */
  finish(): Promise<{ partsKey: string; partCount: number }>;
}

/**
 * `blobKey` is asked for only when the first batch is written. Keys come from a sequence and
 * index entries sort by key: a key taken long before its parts are inserted (say, before a
 * stream is read) lets other blobs' higher keys land first, and each such out-of-order insert
 * splits a B-tree leaf in the middle, leaving it half empty for good (append workload, 100
 * steps: 47 % leaf density with the key taken a statement early, 85-93 % taken just in time).
 */
export function createPartWriter(
  client: pg.PoolClient,
  s: string,
  blobKey: () => Promise<string>,
): PartWriter {
  let batch: Buffer[] = [];
  let written = 0;
  let partsKey: string | undefined;

  async function flush(): Promise<void> {
    if (batch.length === 0) return;
    partsKey ??= await blobKey();
    const params: unknown[] = [partsKey];
    for (const [index, part] of batch.entries()) params.push(written + index, part);
    await client.query(insertPartsSql(s, batch.length), params);
    written += batch.length;
    batch = [];
  }

  return {
    async append(part) {
      batch.push(part);
      if (batch.length >= rowsPerInsert) await flush();
    },
    async finish() {
      await flush();
      partsKey ??= await blobKey();
      return { partsKey, partCount: written };
    },
  };
}
