import { describe, expect, it } from "vitest";
import { type HeapLimitInputs, oldGenerationLimit, splitNodeOptions } from "../src/index.js";
import { nodeFlagValue } from "../src/node-options.js";

const MB = 1024 * 1024;
const V8 = {
  node20: "11.3.244.8-node.38",
  node22: "12.4.254.21-node.57",
  node24: "13.6.233.17-node.63",
};

function limitMb(
  inputs: Partial<HeapLimitInputs> & { heapSizeLimitMb: number; v8Version: string },
) {
  const limit = oldGenerationLimit({
    execArgv: [],
    nodeOptions: undefined,
    ...inputs,
    heapSizeLimitBytes: inputs.heapSizeLimitMb * MB,
  });
  return { mb: limit.oldGenerationBytes / MB, source: limit.source };
}

describe("splitNodeOptions / nodeFlagValue", () => {
  it("splits NODE_OPTIONS like Node: whitespace, double quotes, backslash escapes in quotes", () => {
    expect(splitNodeOptions('  --max-old-space-size=64   --require "./my file.js" ')).toEqual([
      "--max-old-space-size=64",
      "--require",
      "./my file.js",
    ]);
    expect(splitNodeOptions('--title="a \\"quoted\\" name"')).toEqual(['--title=a "quoted" name']);
    expect(splitNodeOptions("")).toEqual([]);
  });

  it("reads the last value, the command line after NODE_OPTIONS, with - or _ spellings", () => {
    const sources = {
      nodeOptions: "--max_old_space_size=90 --inspect",
      execArgv: ["--expose-gc", "--max-old-space-size=70"],
    };
    expect(nodeFlagValue("max-old-space-size", sources)).toBe("70");
    expect(nodeFlagValue("max-old-space-size", { ...sources, execArgv: [] })).toBe("90");
    expect(nodeFlagValue("max-semi-space-size", sources)).toBeUndefined();
  });
});

describe("oldGenerationLimit", () => {
  // heap_size_limit in MB for --max-old-space-size=N, measured on each version: N + 48 MB on
  // Node 20 and 22 (3 x 16 MB semi-spaces), N + 192 MB on Node 24 (3 x 64 MB).
  const explicit: Array<[keyof typeof V8, number, number]> = [
    ["node20", 64, 112],
    ["node20", 512, 560],
    ["node22", 256, 304],
    ["node24", 64, 256],
    ["node24", 256, 448],
    ["node24", 512, 704],
    ["node24", 4096, 4288],
  ];
  it.each(explicit)(
    "%s --max-old-space-size=%i: the flag, not heap_size_limit",
    (node, oldMb, heapMb) => {
      const fromArgv = limitMb({
        heapSizeLimitMb: heapMb,
        v8Version: V8[node],
        execArgv: [`--max-old-space-size=${oldMb}`],
      });
      expect(fromArgv).toEqual({ mb: oldMb, source: "--max-old-space-size" });
      const fromEnv = limitMb({
        heapSizeLimitMb: heapMb,
        v8Version: V8[node],
        nodeOptions: `--max-old-space-size=${oldMb}`,
      });
      expect(fromEnv).toEqual({ mb: oldMb, source: "--max-old-space-size" });
    },
  );

  // heap_size_limit with no flags, measured in a memory cgroup of 0.5-16 GB (Node sizes the heap
  // from the cgroup's limit): [cgroup GB, Node 20 and 22, Node 24] -> old generation.
  const defaults: Array<[number, number, number, number]> = [
    [0.5, 259, 259, 256],
    [1, 524, 560, 512],
    [2, 1048, 1120, 1024],
    [4, 2096, 2240, 2048],
    [8, 2096, 2240, 2048],
    [16, 4144, 4288, 4096],
  ];
  it.each(defaults)(
    "no flags in a %s GB cgroup: heap_size_limit %i (Node 20/22) or %i (Node 24) -> old generation %i MB",
    (_gb, node20Mb, node24Mb, oldMb) => {
      for (const v8Version of [V8.node20, V8.node22]) {
        expect(limitMb({ heapSizeLimitMb: node20Mb, v8Version })).toEqual({
          mb: oldMb,
          source: "heap_size_limit",
        });
      }
      expect(limitMb({ heapSizeLimitMb: node24Mb, v8Version: V8.node24 })).toEqual({
        mb: oldMb,
        source: "heap_size_limit",
      });
    },
  );

  it("takes a worker's resourceLimits when they add up to heap_size_limit", () => {
    const workerLimits = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 8 };
    expect(limitMb({ heapSizeLimitMb: 264, v8Version: V8.node24, workerLimits })).toEqual({
      mb: 256,
      source: "resourceLimits",
    });
    // A worker started without limits reports V8's defaults (4096 + 192) while the heap it got
    // follows the flags it inherited: the flag wins.
    const inherited = limitMb({
      heapSizeLimitMb: 292,
      v8Version: V8.node24,
      workerLimits: { maxOldGenerationSizeMb: 4096, maxYoungGenerationSizeMb: 192 },
      execArgv: ["--max-old-space-size=100"],
    });
    expect(inherited).toEqual({ mb: 100, source: "--max-old-space-size" });
  });

  it("subtracts 3 semi-spaces of --max-semi-space-size (rounded up to a power of two)", () => {
    // Measured: --max-semi-space-size=5 or 8 with no old-space flag -> 4120 MB on 20 and 24.
    for (const semi of ["5", "8"]) {
      expect(
        limitMb({
          heapSizeLimitMb: 4120,
          v8Version: V8.node24,
          execArgv: [`--max-semi-space-size=${semi}`],
        }),
      ).toEqual({ mb: 4096, source: "--max-semi-space-size" });
    }
  });

  it("errs low when the cap came from somewhere it cannot see", () => {
    // --max-old-space-size-percentage (Node 24) sets the old generation without a visible MB value:
    // 1000 MB + 192 MB does not fit V8's own split, so the largest young reserve comes off.
    expect(limitMb({ heapSizeLimitMb: 1192, v8Version: V8.node24 })).toEqual({
      mb: 1000,
      source: "heap_size_limit",
    });
  });
});
