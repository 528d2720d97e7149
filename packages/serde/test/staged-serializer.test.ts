import { describe, expect, it } from "vitest";
import { SerdeErrorCode } from "../src/errors.js";
import { blobClosureOf } from "../src/redacting/prepared-payload.js";
import { RedactingSerializer } from "../src/redacting-serializer.js";
import { isStagedSerializer } from "../src/staged-serializer.js";
import { createMemoryBlobStore } from "../src/stores/memory.js";
import { countingStore, listBlobs } from "./helpers.js";

const kb = 1024;
/** These tests count one blob per large string; chunking (its own tests) is off for them. */
const oneBlobPerString = { chunkMinBytes: Number.MAX_SAFE_INTEGER };

describe("RedactingSerializer in two phases: prepare (no I/O), then writeBlobs", () => {
  it("plans payloads and every blob they need without writing, then writes exactly those", async () => {
    const blobStore = countingStore(createMemoryBlobStore());
    const serializer = new RedactingSerializer({
      ...oneBlobPerString,
      blobStore,
      maxArrayLength: 10,
    });
    expect(isStagedSerializer(serializer)).toBe(true);
    const values = [
      { rows: Array.from({ length: 20 }, (_, index) => `${index}`.repeat(300 * kb)) },
      "small",
      { same: "0".repeat(300 * kb) },
    ];
    const prepared = await serializer.prepare(values);
    expect(blobStore.writes()).toBe(0);
    expect(await listBlobs(blobStore)).toEqual([]);
    // The payload names the array blob, which names the 20 strings; the third value shares one.
    const [array] = prepared[0]!.blobIds;
    expect(prepared[0]!.blobIds).toHaveLength(1);
    expect(prepared[0]!.blobChildren.get(array!)).toHaveLength(20);
    expect(blobClosureOf(prepared[0]!)).toHaveLength(21);
    expect(prepared[1]!.blobIds).toEqual([]);
    expect(prepared[2]!.blobIds).toHaveLength(1);
    expect(blobClosureOf(prepared[0]!)).toContain(prepared[2]!.blobIds[0]);

    await serializer.writeBlobs(prepared);
    expect((await listBlobs(blobStore)).sort()).toEqual(blobClosureOf(prepared[0]!).sort());
    expect(blobStore.writes()).toBe(21);
    // What a payload names is exactly what reading it back from bytes finds.
    for (const payload of prepared) {
      expect((await serializer.referencedBlobIds(payload.type, payload.bytes)).sort()).toEqual(
        blobClosureOf(payload).sort(),
      );
      expect(await serializer.loadsTyped(payload.type, payload.bytes)).toStrictEqual(
        values[prepared.indexOf(payload)],
      );
    }
  });

  it("confirms a cached blob instead of writing it again, and rewrites it when a gc removed it", async () => {
    const blobStore = countingStore(createMemoryBlobStore());
    const serializer = new RedactingSerializer({ ...oneBlobPerString, blobStore });
    const artifact = "a".repeat(300 * kb);
    await serializer.writeBlobs(await serializer.prepare([{ artifact }]));
    expect(blobStore.writes()).toBe(1);
    const again = await serializer.prepare([{ artifact, step: 2 }]);
    await serializer.writeBlobs(again);
    expect(blobStore.writes()).toBe(1);
    await blobStore.delete(again[0]!.blobIds[0]!);
    await serializer.writeBlobs(await serializer.prepare([{ artifact, step: 3 }]));
    expect(blobStore.writes()).toBe(2);
    expect(await blobStore.has(again[0]!.blobIds[0]!)).toBe(true);
  });

  it("names the value and the path of what it cannot store, before anything is written", async () => {
    const blobStore = createMemoryBlobStore();
    const serializer = new RedactingSerializer({ blobStore });
    const cases: [unknown[], (string | number)[], string][] = [
      [["b".repeat(300 * kb), { a: [1, () => 1] }], [1, "a", 1], "a function"],
      [[{ deep: { "odd key": Symbol("s") } }], [0, "deep", "odd key"], "a symbol"],
      [[new Map([["k", { count: 10n }]])], [0, 0, 1, "count"], "a bigint"],
      [[new Set(["x", () => 0])], [0, 1], "a function"],
    ];
    for (const [values, path, what] of cases) {
      const error = await serializer.prepare(values).then(
        () => undefined,
        (caught: unknown) => caught as { code?: string; path?: unknown; what?: string },
      );
      expect(error).toMatchObject({ code: SerdeErrorCode.unserializable, path, what });
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = { back: cycle };
    await expect(serializer.prepare([cycle])).rejects.toMatchObject({
      path: [0, "self", "back"],
      what: "a circular structure (it contains itself)",
    });
    expect(await listBlobs(blobStore)).toEqual([]);
  });
});
