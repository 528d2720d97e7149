#!/usr/bin/env node
import { WorkersErrorCode } from "../errors.js";
import { runWorkerCommand } from "../queue/worker-command.js";

/** Exit codes: 0 drained after SIGTERM/SIGINT, 1 failed, 2 bad options. */
runWorkerCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: { code?: string; message?: string; hint?: string }) => {
    const code = typeof error?.code === "string" ? error.code : undefined;
    process.stderr.write(
      `leangraph-worker: ${code ? `${code}: ` : ""}${error?.message ?? error}\n`,
    );
    if (error?.hint) process.stderr.write(`hint: ${error.hint}\n`);
    if (!code) process.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
    // parseArgs rejects unknown flags with Node's ERR_PARSE_ARGS_* codes.
    const usageError =
      code === WorkersErrorCode.invalidOption || code?.startsWith("ERR_PARSE_ARGS");
    process.exitCode = usageError ? 2 : 1;
  },
);
