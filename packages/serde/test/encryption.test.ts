import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  createEncryptionLayer,
  isSealed,
  KeyRing,
  keyRingResolver,
  type LeangraphError,
  openEnvelope,
  parseEncryptionKeys,
  SerdeErrorCode,
  sealEnvelope,
  sealedKeyId,
} from "../src/index.js";

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const place = { bound: ["test", "a"], where: "test place a" };

function thrown(work: () => unknown): LeangraphError {
  try {
    work();
  } catch (error) {
    return error as LeangraphError;
  }
  throw new Error("expected a throw");
}

describe("key ring", () => {
  it("parses LG_ENCRYPTION_KEYS: the first key seals, every key opens", () => {
    const ring = new KeyRing(
      parseEncryptionKeys(` k2:${k2.toString("base64")} , k1:${k1.toString("base64")}`),
    );
    expect(ring.currentKeyId).toBe("k2");
    expect(ring.keyIds).toEqual(["k2", "k1"]);
  });

  it("refuses a key of the wrong length naming its id, never the key", () => {
    const short = randomBytes(31).toString("base64");
    const error = thrown(
      () => new KeyRing(parseEncryptionKeys(`ok:${k1.toString("base64")},bad:${short}`)),
    );
    expect(error.code).toBe(SerdeErrorCode.invalidOption);
    expect(error.message).toContain('key "bad" must be 32 bytes');
    expect(error.message).not.toContain(short);
    expect(error.message).not.toContain(k1.toString("base64"));
  });

  it("refuses duplicate ids, bad ids, no keys and non-base64, without echoing the text", () => {
    const b64 = k1.toString("base64");
    for (const text of [`a:${b64},a:${b64}`, `a b:${b64}`, "", `a:${b64}!`, b64]) {
      const error = thrown(() => new KeyRing(parseEncryptionKeys(text)));
      expect(error.code, text).toBe(SerdeErrorCode.invalidOption);
      expect(error.message).not.toContain(b64);
    }
    expect(() => keyRingResolver({ keys: b64 } as never)).toThrow(/got object/);
  });

  it("shows only key ids through inspect and JSON", () => {
    const ring = new KeyRing([{ id: "k1", key: k1 }]);
    const shown = `${inspect(ring, { showHidden: true, depth: 9 })}${JSON.stringify(ring)}`;
    expect(shown).toContain("k1");
    for (const form of [k1.toString("base64"), k1.toString("hex")])
      expect(shown).not.toContain(form);
  });
});

describe("envelope", () => {
  const ring = new KeyRing([{ id: "k1", key: k1 }]);

  it("round-trips, with the key id in its header and a fresh nonce each time", () => {
    const plain = Buffer.from("hello state");
    const one = sealEnvelope(ring, plain, place);
    const two = sealEnvelope(ring, plain, place);
    expect(one.equals(two)).toBe(false);
    expect(isSealed(one)).toBe(true);
    expect(sealedKeyId(one)).toBe("k1");
    expect(openEnvelope(ring, one, place).toString()).toBe("hello state");
  });

  it("never gives a nonce twice, across refills of the nonce pool", () => {
    // "LGE", version, id length, "k1", then the 12-byte nonce.
    const nonceAt = 5 + "k1".length;
    const nonces = new Set<string>();
    const seals = 5_000; // the pool holds 1,024 nonces: this crosses four refills
    for (let index = 0; index < seals; index++) {
      const sealed = sealEnvelope(ring, Buffer.from([index & 0xff]), place);
      nonces.add(sealed.subarray(nonceAt, nonceAt + 12).toString("hex"));
    }
    expect(nonces.size).toBe(seals);
  });

  it("fails closed: plaintext, a flipped byte, another place, an unknown or wrong key", () => {
    const sealed = sealEnvelope(ring, Buffer.from("secret"), place);
    expect(thrown(() => openEnvelope(ring, Buffer.from("secret"), place)).code).toBe(
      SerdeErrorCode.notEncrypted,
    );
    for (let index = 0; index < sealed.byteLength; index += 1) {
      const flipped = Buffer.from(sealed);
      flipped[index]! ^= 0x01;
      const code = thrown(() => openEnvelope(ring, flipped, place)).code;
      expect([
        SerdeErrorCode.decryptionFailed,
        SerdeErrorCode.notEncrypted,
        SerdeErrorCode.encryptionKeyMissing,
      ]).toContain(code);
    }
    const moved = thrown(() =>
      openEnvelope(ring, sealed, { bound: ["test", "b"], where: "test place b" }),
    );
    expect(moved.code).toBe(SerdeErrorCode.decryptionFailed);
    expect(moved.message).toContain("test place b");
    const missing = thrown(() => openEnvelope(new KeyRing([{ id: "k2", key: k2 }]), sealed, place));
    expect(missing.code).toBe(SerdeErrorCode.encryptionKeyMissing);
    expect(missing.message).toContain('"k1"');
    const wrong = thrown(() => openEnvelope(new KeyRing([{ id: "k1", key: k2 }]), sealed, place));
    expect(wrong.code).toBe(SerdeErrorCode.decryptionFailed);
  });

  it("the body layer binds kind and content id", async () => {
    const layer = createEncryptionLayer(async () => [{ id: "k1", key: k1 }]);
    const id = "ab".repeat(32);
    const stored = await layer.encode(Buffer.from("body"), { kind: "blob", id });
    expect(Buffer.from(await layer.decode(stored, { kind: "blob", id })).toString()).toBe("body");
    await expect(layer.decode(stored, { kind: "item", id })).rejects.toMatchObject({
      code: SerdeErrorCode.decryptionFailed,
    });
    await expect(layer.decode(stored, { kind: "blob", id: "cd".repeat(32) })).rejects.toMatchObject(
      {
        code: SerdeErrorCode.decryptionFailed,
      },
    );
  });
});
