import { createServer } from "node:http";
import { join } from "node:path";
import { LeanSqliteSaver } from "@leangraph/checkpointer/sqlite";
import { startMemoryWatchdog } from "@leangraph/workers";
import { stepSettledChannel } from "@leangraph/workers/diagnostics";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type DashboardSnapshot, startDashboard } from "../src/dashboard/index.js";
import { registerLeangraphMetrics, serveMetricsFromEnv, startMetricsServer } from "../src/index.js";
import { sampleValue, tempDir } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Reads server-sent events until `count` have arrived. */
async function readEvents(
  url: string,
  count: number,
): Promise<Array<{ event: string; data: any }>> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.headers.get("content-type")).toBe("text/event-stream");
  const events: Array<{ event: string; data: any }> = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(message)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(message)![1]!);
      events.push({ event, data });
      end = buffer.indexOf("\n\n");
    }
    if (events.length >= count) break;
  }
  controller.abort();
  return events;
}

describe("startMetricsServer", () => {
  it("serves GET /metrics on loopback and nothing else", async () => {
    const registry = new Registry();
    const metrics = registerLeangraphMetrics(registry, { runtimeMetrics: false });
    cleanups.push(() => metrics.unregister());
    const server = await startMetricsServer({ registry, port: 0 });
    cleanups.push(() => server.close());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("# TYPE leangraph_steps_total counter");
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: "POST" })).status).toBe(404);
  });

  it("fails with ERR_LG_METRICS_SERVE_FAILED naming the port when it is taken", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const port = (taken.address() as { port: number }).port;
    await expect(startMetricsServer({ registry: new Registry(), port })).rejects.toMatchObject({
      code: "ERR_LG_METRICS_SERVE_FAILED",
      message: expect.stringContaining(`127.0.0.1:${port}: EADDRINUSE`),
      hint: expect.stringContaining("0 for a free port"),
    });
  });
});

describe("serveMetricsFromEnv", () => {
  it("returns undefined with LG_METRICS_PORT unset, and serves with it set", async () => {
    expect(await serveMetricsFromEnv({ env: {} })).toBeUndefined();
    const endpoint = await serveMetricsFromEnv({ env: { LG_METRICS_PORT: "0" } });
    cleanups.push(() => endpoint?.close());
    expect(endpoint!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const text = await (await fetch(endpoint!.url)).text();
    expect(text).toContain("nodejs_heap_size_used_bytes");
    expect(text).toContain("leangraph_blobs_written_total");
    await endpoint!.close();
    expect(stepSettledChannel.hasSubscribers).toBe(false);
  });
});

describe("retention metrics from a real saver", () => {
  it("count each sweep and what it removed", async () => {
    const dir = tempDir("retention");
    cleanups.push(dir.remove);
    const saver = LeanSqliteSaver.fromConnString(join(dir.path, "checkpoints.sqlite"), {
      retention: { keepLast: 1, sweepIntervalMs: 3_600_000 },
    });
    cleanups.push(() => saver.close());
    const registry = new Registry();
    const metrics = registerLeangraphMetrics(registry, {
      checkpointer: saver,
      runtimeMetrics: false,
      storageStatsIntervalMs: 0,
    });
    cleanups.push(() => metrics.unregister());
    const { StateGraph, Annotation, START, END } = await import("@langchain/langgraph");
    const State = Annotation.Root({ count: Annotation<number>() });
    const graph = new StateGraph(State)
      .addNode("add", (state: { count: number }) => ({ count: state.count + 1 }))
      .addEdge(START, "add")
      .addEdge("add", END)
      .compile({ checkpointer: saver });
    for (let turn = 0; turn < 3; turn++) {
      await graph.invoke({ count: turn }, { configurable: { thread_id: "t" } });
    }
    const before = await registry.metrics();
    const puts = sampleValue(before, 'leangraph_checkpoint_puts_total{operation="put"}')!;
    expect(sampleValue(before, "leangraph_checkpoint_stored_checkpoints")).toBe(puts);
    const report = await saver.sweepRetention();
    const after = await registry.metrics();
    expect(sampleValue(after, "leangraph_retention_sweeps_total")).toBe(1);
    expect(sampleValue(after, 'leangraph_retention_removed_total{kind="checkpoint"}')).toBe(
      report.deletedCheckpoints,
    );
    expect(report.deletedCheckpoints).toBe(puts - 1);
    expect(sampleValue(after, 'leangraph_retention_removed_total{kind="item"}')).toBe(
      report.gc.deletedItems,
    );
    expect(sampleValue(after, "leangraph_checkpoint_stored_checkpoints")).toBe(1);
  });
});

describe("startDashboard", () => {
  it("serves the page, a snapshot then ticks over SSE, and the state as JSON", async () => {
    const watchdog = startMemoryWatchdog({ logIntervalS: 0, snapshotSignal: null });
    cleanups.push(() => watchdog.stop());
    const dashboard = await startDashboard({ watchdog, tickMs: 50, title: "t<est>" });
    cleanups.push(() => dashboard.close());
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await fetch(dashboard.url);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain("<title>t&#60;est&#62; · live memory</title>");
    expect(html).not.toMatch(/<script src|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);

    const eventsPromise = readEvents(`${dashboard.url}events`, 3);
    stepSettledChannel.publish({
      exportName: "generate",
      label: "generate -> a.ts",
      outcome: "succeeded",
      code: undefined,
      durationMs: 12,
      attempts: 1,
      heapUsedPeakBytes: 5 * 1024 * 1024,
      outputBytes: 10,
      mode: "workers",
    });
    const events = await eventsPromise;
    expect(events[0]!.event).toBe("snapshot");
    expect(events[0]!.data.thresholds).toEqual(watchdog.thresholds());
    expect(events[0]!.data.memory.length).toBeGreaterThan(0);
    expect(events.slice(1).every((message) => message.event === "tick")).toBe(true);
    const state = (await (await fetch(`${dashboard.url}state.json`)).json()) as DashboardSnapshot;
    expect(state.stepsSucceeded).toBe(1);
    expect(state.steps[0]).toMatchObject({ index: 1, heapUsedPeakBytes: 5 * 1024 * 1024 });
    expect(state.memoryLine).toMatch(/^\[mem\] rss=/);
    expect(state.memory.at(-1)!.heapLimitBytes).toBeGreaterThan(0);

    await dashboard.close();
    expect(stepSettledChannel.hasSubscribers).toBe(false);
  });

  it("rejects an option it does not know, naming it", async () => {
    await expect(startDashboard({ prot: 80 } as never)).rejects.toMatchObject({
      code: "ERR_LG_INVALID_OPTION",
      message: expect.stringContaining("prot=80 is not an option"),
    });
  });
});
