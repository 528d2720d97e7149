import { describe, expect, it } from "vitest";
import { createProgress } from "../src/progress.js";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 80, writes, write: (text: string) => writes.push(text) };
}

describe("progress", () => {
  it("on a terminal redraws one bar in place, throttled, and ends the line when done", () => {
    const stream = fakeStream(true);
    let nowMs = 0;
    const progress = createProgress(stream, { redrawMs: 100, now: () => nowMs });
    progress.phase("import", 10, "checkpoints");
    for (let done = 1; done <= 10; done += 1) {
      nowMs += 30;
      progress.update(done, "2.0 MB/s");
    }
    progress.done();
    const output = stream.writes.join("");
    expect(output).toContain("\r\x1b[2K");
    expect(output).toContain("100%");
    expect(output).toContain("import: 10/10 checkpoints, 2.0 MB/s");
    expect(output.endsWith("\n")).toBe(true);
    // 10 updates 30 ms apart with a 100 ms throttle: far fewer draws than updates.
    const draws = stream.writes.filter((text) => text.startsWith("\r\x1b[2K") && text.length > 4);
    expect(draws.length).toBeLessThan(8);
    expect(output.split("\n").length).toBe(2);
  });

  it("draws the whole bar on a terminal that reports no width (a pty without a size)", () => {
    const stream = { ...fakeStream(true), columns: 0 };
    const progress = createProgress(stream, { now: () => 0 });
    progress.phase("verify", 4, "checkpoints");
    progress.done();
    expect(stream.writes.join("")).toContain("verify: 0/4 checkpoints");
  });

  it("elsewhere prints plain lines: at the start, every interval, and the final count", () => {
    const stream = fakeStream(false);
    let nowMs = 0;
    const progress = createProgress(stream, { intervalMs: 5000, now: () => nowMs });
    progress.phase("verify", 100, "checkpoints");
    for (let done = 1; done <= 100; done += 1) {
      nowMs += 200;
      progress.update(done);
    }
    progress.done();
    const lines = stream.writes.join("").trimEnd().split("\n");
    expect(lines[0]).toMatch(/^verify: 0\/100 checkpoints/);
    expect(lines.at(-1)).toMatch(/^verify: 100\/100 checkpoints \(20\.0 s\)$/);
    // 20 s of work, a line every 5 s: start + 4 periodic (the last one is the final count).
    expect(lines.length).toBe(5);
    expect(stream.writes.join("")).not.toContain("\x1b");
  });
});
