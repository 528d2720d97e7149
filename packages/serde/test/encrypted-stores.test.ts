import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createCompressionLayer,
  createEncryptionLayer,
  createFsBlobStore,
  createMemoryBlobStore,
} from "../src/index.js";
import { testBlobStore } from "../src/testing/index.js";

// The shared conformance suite over encrypted stores: compressed, then sealed, as
// createCheckpointer composes the layers. (Damage is covered by the encryption tests: a flipped
// byte there is ERR_LG_ENCRYPTION_DECRYPT_FAILED, not the suite's ERR_LG_BLOB_CORRUPT.)
const layers = () => [
  createCompressionLayer("auto"),
  createEncryptionLayer([{ id: "suite", key: randomBytes(32) }]),
];

testBlobStore(
  "memory, compressed and encrypted",
  async () => ({ store: createMemoryBlobStore({ layers: layers() }), cleanup: async () => {} }),
  // "LGE", version, id length, "suite", a 12-byte nonce; the 16-byte tag.
  { compresses: true, storedOverheadBytes: 3 + 1 + 1 + "suite".length + 12 + 16 },
);

testBlobStore(
  "fs, compressed and encrypted",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-fs-encrypted-"));
    return {
      store: createFsBlobStore({ dir, layers: layers() }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  // "LGE", version, id length, "suite", a 12-byte nonce; the 16-byte tag.
  { compresses: true, storedOverheadBytes: 3 + 1 + 1 + "suite".length + 12 + 16 },
);
