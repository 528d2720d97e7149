import { formatBytes, formatCount, formatPercent, renderTable } from "../text-table.js";
import type { InspectReport } from "./inspect-report.js";

const shortId = (id: string) => (id.length > 14 ? `${id.slice(0, 13)}…` : id);
/** Checkpoint ids (uuid6) are shortened; "files version 7" (stock Postgres) is kept whole. */
const shortAt = (at: string) => (/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(at) ? shortId(at) : at);

/** The report for a person: what makes the database big first, then the detail behind it. */
export function renderInspect(report: InspectReport, top: number): string {
  const { totals } = report;
  const onDisk = totals.databaseBytes + totals.blobBytes;
  const lines: string[] = [
    `${report.kind} ${report.backend === "sqlite" ? "SQLite" : "Postgres"} checkpoint database ${report.database}`,
    `${formatBytes(onDisk)} on disk${report.kind === "lean" ? ` (${formatBytes(totals.databaseBytes)} database + ${formatBytes(totals.blobBytes)} in ${formatCount(totals.blobCount)} blobs)` : ""}; ${formatCount(totals.threads)} threads, ${formatCount(totals.checkpoints)} checkpoints, ${formatCount(totals.writes)} pending writes`,
  ];
  const biggest = report.channels[0];
  const channelTotal = report.channels.reduce((sum, channel) => sum + channel.totalBytes, 0);
  if (biggest !== undefined) {
    const largest = report.largestValues.find((value) => value.channel === biggest.channel);
    lines.push(
      "",
      `Biggest: channel "${biggest.channel}", ${formatBytes(biggest.totalBytes)} (${formatPercent(biggest.totalBytes, channelTotal)} of channel bytes)${largest ? `; its largest value ${largest.path} is ${formatBytes(largest.bytes)}${report.kind === "stock" ? ` stored ${formatCount(largest.copies)} times` : ""}` : ""}.`,
    );
  }
  const shares = (bytes: number) => [formatBytes(bytes), formatPercent(bytes, channelTotal)];
  lines.push(
    "",
    `Channels (${report.channelBytesAre}):`,
    report.kind === "stock"
      ? renderTable(
          ["channel", "in checkpoints", "in writes", "total", "share"],
          report.channels
            .slice(0, top)
            .map((channel) => [
              channel.channel,
              formatBytes(channel.valueBytes),
              formatBytes(channel.writeBytes),
              ...shares(channel.totalBytes),
            ]),
          ["in checkpoints", "in writes", "total", "share"],
        )
      : renderTable(
          ["channel", "stored", "share"],
          report.channels
            .slice(0, top)
            .map((channel) => [channel.channel, ...shares(channel.totalBytes)]),
          ["stored", "share"],
        ),
  );
  if (report.largestValues.length > 0) {
    lines.push(
      "",
      report.kind === "stock"
        ? "Largest values (stored = size x copies; the stock savers store a value again in every checkpoint that holds it):"
        : "Largest values in the latest state of each thread (each stored once):",
      report.kind === "stock"
        ? renderTable(
            ["path", "size", "copies", "stored", "thread", "first seen"],
            report.largestValues
              .slice(0, top)
              .map((value) => [
                value.path,
                formatBytes(value.bytes),
                formatCount(value.copies),
                formatBytes(value.storedBytes),
                shortId(value.threadId),
                `${value.source === "write" ? "write at " : ""}${shortAt(value.at)}`,
              ]),
            ["size", "copies", "stored"],
          )
        : renderTable(
            ["path", "size", "thread", "checkpoint"],
            report.largestValues
              .slice(0, top)
              .map((value) => [
                value.path,
                formatBytes(value.bytes),
                shortId(value.threadId),
                shortId(value.at),
              ]),
            ["size"],
          ),
    );
  }
  lines.push(
    "",
    "Threads:",
    renderTable(
      ["thread", "checkpoints", "writes", "namespaces", "bytes"],
      report.threads
        .slice(0, top)
        .map((thread) => [
          thread.threadId,
          formatCount(thread.checkpoints),
          formatCount(thread.writes),
          formatCount(thread.namespaces),
          formatBytes(thread.bytes),
        ]),
      ["checkpoints", "writes", "namespaces", "bytes"],
    ),
  );
  if (report.threads.length > top)
    lines.push(
      `… and ${formatCount(report.threads.length - top)} more threads (--top N shows more)`,
    );
  if (report.orphanBlobs !== undefined) {
    lines.push(
      "",
      report.orphanBlobs.length === 0
        ? "Orphan blobs: none."
        : `Orphan blobs: ${formatCount(report.orphanBlobs.length)}, ${formatBytes(report.orphanBlobBytes ?? 0)} (nothing reaches them; leangraph gc deletes them once older than its grace period):`,
    );
    if (report.orphanBlobs.length > 0) {
      lines.push(
        renderTable(
          ["blob", "bytes", "written"],
          report.orphanBlobs
            .slice(0, top)
            .map((blob) => [blob.id, formatBytes(blob.bytes), blob.writtenAt]),
          ["bytes"],
        ),
      );
    }
  }
  for (const note of report.notes) lines.push("", note);
  return lines.join("\n");
}
