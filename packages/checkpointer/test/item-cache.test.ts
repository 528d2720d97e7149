import { describe, expect, it } from "vitest";
import { ItemCache } from "../src/core/read/item-cache.js";

const body = (byte: number, length: number) => new Uint8Array(length).fill(byte);

describe("ItemCache", () => {
  it("keeps the most recently used bodies within its byte budget", () => {
    const cache = new ItemCache(800);
    for (const id of ["a", "b", "c", "d", "e", "f", "g", "h"]) cache.add(id, body(1, 100));
    cache.get("a"); // used: now the newest
    cache.add("i", body(2, 100)); // 900 bytes: the least recently used (b) goes
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toEqual(body(1, 100));
    expect(cache.get("i")).toEqual(body(2, 100));
  });

  it("skips a body larger than an eighth of the budget, and everything when the budget is 0", () => {
    const cache = new ItemCache(800);
    cache.add("small", body(1, 100));
    cache.add("large", body(1, 101));
    expect(cache.get("large")).toBeUndefined();
    expect(cache.get("small")).toBeDefined();
    const off = new ItemCache(0);
    off.add("x", body(1, 1));
    expect(off.get("x")).toBeUndefined();
  });

  it("holds a copy of its own, not a view into the caller's (possibly shared) buffer", () => {
    const slab = Buffer.alloc(8192, 7);
    const view = slab.subarray(100, 200);
    const cache = new ItemCache(1024 * 1024);
    cache.add("v", view);
    slab.fill(0);
    const cached = cache.get("v")!;
    expect(cached.buffer.byteLength).toBe(100);
    expect(cached).toEqual(body(7, 100));
  });

  it("clear() forgets everything", () => {
    const cache = new ItemCache(1024);
    cache.add("a", body(1, 10));
    cache.clear();
    expect(cache.get("a")).toBeUndefined();
  });
});
