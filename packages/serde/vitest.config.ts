import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // @langchain/langgraph-checkpoint-validation registers its suites through vitest globals.
    globals: true,
    include: ["test/**/*.test.ts"],
    // The JSON file lets `npm test` (scripts/run.mjs) print one "N passed, N failed" line for all packages.
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // The integration tests hold 600 MB to 1.5 GB of strings at once (and the stock serializer
    // builds a ~512 MB string before failing): child processes with room above Node's 4 GB default.
    pool: "forks",
    execArgv: ["--max-old-space-size=8192"],
  },
});
