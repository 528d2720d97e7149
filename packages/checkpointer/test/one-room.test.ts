import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Knowledge in one room (STYLE.md): one module decides what is alive, one module reads the
 * value-reference format. A copy of either rule drifts (a second liveness walk once called a
 * whole live thread garbage), so this test fails when another module starts doing either.
 */

const packagesDir = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (path.endsWith(".ts")) {
      files.push({ path: relative(packagesDir, path), text: readFileSync(path, "utf8") });
    }
  };
  visit(join(packagesDir, dir));
  return files;
}

const checkpointerSources = sources("checkpointer/src");
const cliSources = sources("cli/src");

interface Rule {
  what: string;
  pattern: RegExp;
  /** The owner, where the pattern must occur (so a rename cannot make this test pass vacuously). */
  owner: string;
  /** Storage plumbing that answers the owner's queries without deciding anything. */
  allowed?: readonly string[];
}

/** The row stores answer the walk's queries (SQL, driver calls, coded errors); they decide nothing. */
const rowPlumbing = [
  "checkpointer/src/core/row-store.ts",
  "checkpointer/src/core/sql-row-store.ts",
  "checkpointer/src/core/storage-errors.ts",
  // The encryption layer opens what the stores answer; it decides nothing either.
  "checkpointer/src/core/encrypted-rows.ts",
  "checkpointer/src/sqlite/row-store.ts",
  "checkpointer/src/postgres/row-store.ts",
];

const livenessRules: Rule[] = [
  {
    what: "reads the roots of liveness",
    pattern: /\bliveRoots\s*\(/,
    owner: "checkpointer/src/core/reachability.ts",
    allowed: rowPlumbing,
  },
  {
    what: "lists every item row to find the unreached ones",
    pattern: /\.allItems\s*\(/,
    owner: "checkpointer/src/core/reachability.ts",
    // rekey seals and compact compresses every stored body again, alive or not: they judge nothing.
    allowed: [...rowPlumbing, "checkpointer/src/core/rekey.ts", "checkpointer/src/core/compact.ts"],
  },
  {
    what: "lists the blob store to classify blobs",
    pattern: /blobStore\.list\s*\(/,
    owner: "checkpointer/src/core/reachability.ts",
    // verify streams every blob through the store to check its hash, and compact rewrites every
    // blob stored plain in its compressed form: neither classifies anything.
    allowed: ["cli/src/commands/verify.ts", "checkpointer/src/core/compact.ts"],
  },
  {
    what: "judges a blob by its age against a grace period",
    pattern: /writtenAtMs\s*<=|cutoffMs/,
    owner: "checkpointer/src/core/reachability.ts",
    // The sweep passes the cutoff it took before listing to reachability's isCollectable.
    allowed: ["checkpointer/src/core/lifecycle/mark-sweep.ts"],
  },
  {
    what: "follows a tree node to its children",
    pattern: /\bnodeChildren\s*\(/,
    owner: "checkpointer/src/core/reachability.ts",
    // Where the format is read (its owner), not followed.
    allowed: ["checkpointer/src/codec/value-ref.ts"],
  },
  {
    what: "follows a blob to the blobs recorded for it",
    pattern: /\.blobChildren\s*\(/,
    owner: "checkpointer/src/core/reachability.ts",
    // inspect's PieceGraph reads them for the walk (and remembers them); it follows nothing.
    allowed: [...rowPlumbing, "checkpointer/src/inspect/piece-graph.ts"],
  },
  {
    what: "walks references from a frontier (a second walk)",
    pattern: /\bfrontier\b/i,
    owner: "checkpointer/src/core/reachability.ts",
  },
];

const valueRefRules: Rule[] = [
  {
    what: "looks at a value ref's keys",
    pattern: /["'][asbimo]["']\s+in\s+\w+/,
    owner: "checkpointer/src/codec/value-ref.ts",
  },
  {
    what: "builds a value ref from its keys",
    pattern: /\{\s*(?:t:\s*\w+,\s*[sbi]|[aom]):\s*[\w.]+(?:,\s*n:|\s*\})/,
    owner: "checkpointer/src/codec/value-ref.ts",
  },
  {
    what: "parses value-ref or channel-ref JSON",
    pattern: /JSON\.parse\(\s*[\w.]*(?:[vV]alueRef|[cC]hannelRefs|refJson|seedRef|json)\b/,
    owner: "checkpointer/src/codec/value-ref.ts",
  },
];

function offenders(rule: Rule, files: readonly { path: string; text: string }[]): string[] {
  return files
    .filter((file) => file.path !== rule.owner && !(rule.allowed ?? []).includes(file.path))
    .filter((file) => rule.pattern.test(file.text))
    .map((file) => file.path);
}

describe("knowledge in one room", () => {
  const all = [...checkpointerSources, ...cliSources];

  it.each(livenessRules.map((rule) => [rule.what, rule] as const))(
    "only core/reachability.ts %s",
    (_what, rule) => {
      const owner = all.find((file) => file.path === rule.owner);
      expect(owner?.text, `${rule.owner} should hold this rule`).toMatch(rule.pattern);
      expect(offenders(rule, all)).toEqual([]);
    },
  );

  it.each(valueRefRules.map((rule) => [rule.what, rule] as const))(
    "only codec/value-ref.ts %s",
    (_what, rule) => {
      const owner = all.find((file) => file.path === rule.owner);
      expect(owner?.text, `${rule.owner} should hold this rule`).toMatch(rule.pattern);
      expect(offenders(rule, all)).toEqual([]);
    },
  );
});
