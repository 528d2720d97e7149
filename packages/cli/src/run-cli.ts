import { LeangraphError } from "@leangraph/serde";
import { type Command, parseCommandLine } from "./arguments/command-line.js";
import type { CommandContext, CommandOutcome } from "./commands/command.js";
import { runCompact } from "./commands/compact.js";
import { runGc } from "./commands/gc.js";
import { runImport } from "./commands/import.js";
import { runInspect } from "./commands/inspect.js";
import { runPrune } from "./commands/prune.js";
import { runRekey } from "./commands/rekey.js";
import { runStats } from "./commands/stats.js";
import { runVerify } from "./commands/verify.js";
import { CliErrorCode } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import { helpText } from "./help.js";
import { listenForInterrupt } from "./interrupt.js";
import { createProgress } from "./progress.js";

export interface CliStreams {
  stdout: { write(text: string): unknown };
  stderr: { isTTY?: boolean; columns?: number; write(text: string): unknown };
}

const usageCodes = new Set<string>([
  CliErrorCode.usage,
  CliErrorCode.invalidOption,
  CliErrorCode.databaseNotFound,
  CliErrorCode.wrongDatabaseKind,
]);

/** Exit code for an error that reached the top: bad usage is 2, Ctrl-C 130, anything else 1. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string") return ExitCode.failed;
  if (code === CliErrorCode.interrupted) return ExitCode.interrupted;
  return usageCodes.has(code) ? ExitCode.usage : ExitCode.failed;
}

function dispatch(
  command: Exclude<Command, { name: "help" | "version" }>,
  context: CommandContext,
) {
  switch (command.name) {
    case "inspect":
      return runInspect(command, context);
    case "import":
      return runImport(command, context);
    case "verify":
      return runVerify(command, context);
    case "stats":
      return runStats(command, context);
    case "gc":
      return runGc(command, context);
    case "compact":
      return runCompact(command, context);
    case "prune":
      return runPrune(command, context);
    case "rekey":
      return runRekey(command, context);
  }
}

/**
 * The whole CLI: parse, run one command, print its report (JSON on stdout with --json, text
 * otherwise), return the exit code. Errors print their code, message and hint on stderr; with
 * --json an error object is printed on stdout too, so a script always gets JSON.
 */
export async function runCli(
  argv: readonly string[],
  streams: CliStreams,
  version: string,
): Promise<number> {
  const wantsJson = argv.includes("--json");
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    return reportError(error, streams, wantsJson);
  }
  if (command.name === "help") {
    streams.stdout.write(`${helpText(command.topic)}\n`);
    return ExitCode.ok;
  }
  if (command.name === "version") {
    streams.stdout.write(`${version}\n`);
    return ExitCode.ok;
  }
  const progress = createProgress(streams.stderr);
  const interrupt = listenForInterrupt(
    () => progress.log("Ctrl-C: stopping at the next safe point (Ctrl-C again to exit now) …"),
    ExitCode.interrupted,
  );
  try {
    const outcome: CommandOutcome = await dispatch(command, {
      progress,
      signal: interrupt.signal,
      now: Date.now,
    });
    streams.stdout.write(
      command.json ? `${JSON.stringify(outcome.report, null, 2)}\n` : `${outcome.text}\n`,
    );
    return outcome.exitCode;
  } catch (error) {
    progress.done();
    return reportError(error, streams, command.json);
  } finally {
    interrupt.stop();
  }
}

function reportError(error: unknown, streams: CliStreams, json: boolean): number {
  const exitCode = exitCodeOf(error);
  const coded =
    error instanceof LeangraphError || typeof (error as { code?: unknown })?.code === "string";
  const { code, message, hint } = error as { code?: string; message?: string; hint?: string };
  streams.stderr.write(`leangraph: ${coded ? `${code}: ` : ""}${message ?? String(error)}\n`);
  if (hint) streams.stderr.write(`hint: ${hint}\n`);
  if (!coded) streams.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
  if (json) {
    streams.stdout.write(
      `${JSON.stringify({ status: "error", error: { code: code ?? null, message: message ?? String(error), hint: hint ?? null } }, null, 2)}\n`,
    );
  }
  return exitCode;
}
