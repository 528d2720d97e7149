import type { LargestValueEntry } from "../values/largest-values.js";

export interface ChannelBytes {
  channel: string;
  /** Bytes of this channel's values stored in checkpoints (stock: every copy; lean: unique). */
  valueBytes: number;
  /** Bytes of pending writes to this channel (lean: included in valueBytes, shared content). */
  writeBytes: number;
  totalBytes: number;
}

export interface ThreadBytes {
  threadId: string;
  namespaces: number;
  checkpoints: number;
  writes: number;
  bytes: number;
}

/** What `leangraph inspect` reports, for every kind of database; each list largest first. */
export interface InspectReport {
  database: string;
  kind: "stock" | "lean";
  backend: "sqlite" | "postgres";
  totals: {
    /** On disk: SQLite files, Postgres relations (lean: rows and items; blobs separately). */
    databaseBytes: number;
    blobBytes: number;
    blobCount: number;
    threads: number;
    checkpoints: number;
    writes: number;
  };
  /** How channel bytes were measured: exact stored bytes, or the JSON size of decoded values. */
  channelBytesAre: "stored" | "estimated from decoded values" | "unique stored content";
  channels: ChannelBytes[];
  /**
   * Stock: the largest distinct values over all checkpoints, with how many copies are stored.
   * Lean: the largest values in each thread's latest state (each stored once).
   */
  largestValues: (LargestValueEntry & { storedBytes: number })[];
  threads: ThreadBytes[];
  /** Lean only. */
  orphanBlobs?: { id: string; bytes: number; writtenAt: string }[];
  orphanBlobBytes?: number;
  /** Lean only: items or blobs a row reaches that are missing or damaged (run verify). */
  missingPieces?: number;
  damagedPieces?: number;
  notes: string[];
  /** Peak resident set size of the inspecting process: memory stays bounded on any size. */
  peakRssBytes: number;
}
