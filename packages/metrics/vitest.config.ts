import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON file lets `npm test` (scripts/run.mjs) print one "N passed, N failed" line for all packages.
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
