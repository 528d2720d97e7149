import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createEncryptionLayer,
  createFsBlobStore,
  KeyRing,
  keyedContentIds,
} from "@leangraph/serde";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorkersErrorCode } from "../src/errors.js";
import { materializeStepOutput, storeStepOutput } from "../src/queue/result-transfer.js";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("step output through the shared store", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-result-transfer-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const ring = new KeyRing([{ id: "shared", key: randomBytes(32) }]);
  const stores = {
    plain: () => createFsBlobStore({ dir: join(dir, "plain") }),
    encrypted: () =>
      createFsBlobStore({ dir: join(dir, "sealed"), layers: [createEncryptionLayer(ring)] }),
  };

  for (const [name, open] of Object.entries(stores)) {
    // 2 MB goes through the store as a stream, 10 KB as one buffer.
    for (const size of [10_000, 2 * 1024 * 1024]) {
      it(`${name} store, ${size} bytes: stored under the store's id, written back unchanged`, async () => {
        const store = open();
        const bytes = randomBytes(size);
        const path = join(dir, `out-${size}`);
        await writeFile(path, bytes);
        const file = { path, sha256: sha256(bytes), bytes: size };
        const stored = await storeStepOutput(store, file, "step");
        const expected = name === "plain" ? sha256(bytes) : keyedContentIds(ring).of(bytes);
        expect(stored).toEqual({ id: expected, bytes: size });
        if (name === "encrypted") expect(stored.id).not.toBe(sha256(bytes));
        const outputPath = join(dir, `back-${size}`);
        const written = await materializeStepOutput(
          store,
          stored,
          { outputPath, tempPath: `${outputPath}.tmp`, maxOutputBytes: size, durable: false },
          "step",
        );
        expect(written).toEqual({ bytes: size, sha256: sha256(bytes) });
        expect((await readFile(outputPath)).equals(bytes)).toBe(true);
      });

      it(`${name} store, ${size} bytes: a file changed after the step hashed it is refused`, async () => {
        const bytes = randomBytes(size);
        const path = join(dir, `changed-${size}`);
        await writeFile(path, bytes);
        const file = { path, sha256: sha256(randomBytes(8)), bytes: size };
        await expect(storeStepOutput(open(), file, "step")).rejects.toMatchObject({
          code: WorkersErrorCode.resultCorrupt,
        });
      });
    }
  }
});
