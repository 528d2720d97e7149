import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

/** A fresh temp directory and its removal; every test that touches disk uses its own. */
export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lg-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `setup()` of a saver over a database migrated by a newer leangraph: refused, naming both versions. */
export async function expectSchemaTooNew(setup: Promise<void>, newer: number): Promise<void> {
  const error = await setup.then(
    () => undefined,
    (caught: unknown) => caught as { code?: string; message: string },
  );
  expect(error?.code).toBe("ERR_LG_CHECKPOINT_SCHEMA_TOO_NEW");
  expect(error?.message).toContain(`migration ${newer}`);
  expect(error?.message).toContain(`knows (${newer - 1})`);
}
