#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { runCli } from "./run-cli.js";

const { version } = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as {
  version: string;
};

// Set, not exit(): stdout may still be flushing a large --json report into a pipe.
process.exitCode = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr },
  version,
);
