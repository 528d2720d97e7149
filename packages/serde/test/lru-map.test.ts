import { describe, expect, it } from "vitest";
import { LruMap } from "../src/lru-map.js";

describe("LruMap", () => {
  it("forgets the least recently used entries first, counting entries by default", () => {
    const evicted: string[] = [];
    const map = new LruMap<string, number>({
      maxWeight: 2,
      onEvict: (key) => evicted.push(key),
    });
    map.set("a", 1);
    map.set("b", 2);
    expect(map.get("a")).toBe(1); // used: b is now the oldest
    map.set("c", 3);
    expect(evicted).toEqual(["b"]);
    expect([...map.oldestFirst()].map(([key]) => key)).toEqual(["a", "c"]);
  });

  it("peek leaves the recency order alone; set on a present key replaces and refreshes it", () => {
    const map = new LruMap<string, number>({ maxWeight: 2 });
    map.set("a", 1);
    map.set("b", 2);
    expect(map.peek("a")).toBe(1);
    map.set("c", 3); // a was only peeked: it goes
    expect(map.has("a")).toBe(false);
    map.set("b", 20);
    map.set("d", 4); // b was replaced after c: c goes
    expect([...map.oldestFirst()]).toEqual([
      ["b", 20],
      ["d", 4],
    ]);
  });

  it("keeps within a weight budget, and delete and clear give the weight back", () => {
    const map = new LruMap<string, string>({ maxWeight: 10, weigh: (value) => value.length });
    map.set("x", "12345");
    map.set("y", "1234");
    expect(map.weight).toBe(9);
    map.set("z", "12"); // 11 > 10: x goes
    expect(map.has("x")).toBe(false);
    expect(map.weight).toBe(6);
    expect(map.delete("y")).toBe(true);
    expect(map.delete("y")).toBe(false);
    expect(map.weight).toBe(2);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.weight).toBe(0);
  });
});
