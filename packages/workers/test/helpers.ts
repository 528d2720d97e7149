import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const STEPS_MODULE = fileURLToPath(new URL("./fixtures/steps.mjs", import.meta.url));
export const TYPED_STEPS_MODULE = fileURLToPath(
  new URL("./fixtures/typed-steps.mjs", import.meta.url),
);

export function fixtureUrl(name: string, params: Record<string, string | number> = {}): string {
  const url = new URL(`./fixtures/${name}`, import.meta.url);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  return url.href;
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `lg-workers-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function step(exportName: string, input: unknown, outputName: string) {
  const modulePath = exportName === "typedStep" ? TYPED_STEPS_MODULE : STEPS_MODULE;
  return { modulePath, exportName, input, outputName };
}

/**
 * Opens a .heapsnapshot the way DevTools does (JSON with `snapshot.meta` describing flat `nodes`
 * and `edges` arrays) and checks its shape; throws when the file is not a whole heap snapshot.
 */
export function readHeapSnapshot(path: string): {
  nodeCount: number;
  edgeCount: number;
  largestSelfSizeBytes: number;
} {
  const snapshot = JSON.parse(readFileSync(path, "utf8")) as {
    snapshot: {
      meta: { node_fields: string[]; edge_fields: string[] };
      node_count: number;
      edge_count: number;
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const { meta, node_count: nodeCount, edge_count: edgeCount } = snapshot.snapshot;
  if (snapshot.nodes.length !== nodeCount * meta.node_fields.length) {
    throw new Error(`${path}: ${snapshot.nodes.length} node values for ${nodeCount} nodes`);
  }
  if (snapshot.edges.length !== edgeCount * meta.edge_fields.length) {
    throw new Error(`${path}: ${snapshot.edges.length} edge values for ${edgeCount} edges`);
  }
  const selfSizeAt = meta.node_fields.indexOf("self_size");
  let largestSelfSizeBytes = 0;
  for (let node = 0; node < snapshot.nodes.length; node += meta.node_fields.length) {
    largestSelfSizeBytes = Math.max(largestSelfSizeBytes, snapshot.nodes[node + selfSizeAt] ?? 0);
  }
  return { nodeCount, edgeCount, largestSelfSizeBytes };
}
