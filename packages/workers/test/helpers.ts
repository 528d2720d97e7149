import { mkdtempSync, rmSync } from "node:fs";
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
