import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globals: true,
    include: ["test/**/*.test.ts"],
    // The JSON file lets `npm test` (scripts/run.mjs) print one "N passed, N failed" line for all packages.
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    // The scenarios spawn agents, SIGKILL them and time their kills against a reference run;
    // running files side by side on two cores would only make each slower and noisier.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
