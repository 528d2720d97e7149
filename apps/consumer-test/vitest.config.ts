import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON file lets `npm test` (scripts/run.mjs) print one "N passed, N failed" line for all packages.
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    // One npm install compiles better-sqlite3 from source (~80 s on 2 cores; no prebuilt binary
    // is reachable here); the projects are shared by every test of the file.
    hookTimeout: 900_000,
    testTimeout: 300_000,
  },
});
