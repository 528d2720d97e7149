import { realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** apps/reliability, whether this file runs from src/ (tsx, vitest) or dist/. */
export const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const repoRoot = join(packageDir, "..", "..");
export const docsPath = join(repoRoot, "docs", "reliability.md");
/** Latest figures per command, committed so docs/reliability.md can be rebuilt from both. */
export const figuresDir = join(packageDir, "figures");
export const faultStepsModule = join(packageDir, "fixtures", "fault-steps.mjs");
export const typedStepModule = join(packageDir, "fixtures", "typed-step.mjs");

/** The demo agent's package directory (through the workspace link, so a moved repo still works). */
export const demoAgentDir = realpathSync(
  join(packageDir, "node_modules", "@leangraph", "demo-agent"),
);
export const demoCliPath = join(demoAgentDir, "dist", "cli.js");

/** Child programs of this package, run as TypeScript through tsx. */
export function childProgram(name: string): string {
  return join(packageDir, "src", "children", `${name}.ts`);
}

/**
 * A child program as built JavaScript, for measurements that must see the process as users
 * run it: under tsx every worker thread also loads tsx's loader, which adds ~60-70 MB of RSS and
 * growth of its own to what the soak measures.
 */
export function builtChildProgram(name: string): string {
  return join(packageDir, "dist", "children", `${name}.js`);
}
