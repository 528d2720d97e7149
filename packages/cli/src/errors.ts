import { CliErrorCode, LeangraphError } from "@leangraph/errors";

export { CliErrorCode };

export function usageError(message: string, hint?: string): LeangraphError {
  return new LeangraphError(CliErrorCode.usage, message, hint === undefined ? {} : { hint });
}

/** Names the argument, the value received and what is accepted. */
export function invalidArgumentError(
  argument: string,
  value: unknown,
  accepted: string,
): LeangraphError {
  return new LeangraphError(
    CliErrorCode.invalidOption,
    `${argument} ${JSON.stringify(value)} is not accepted: expected ${accepted}.`,
  );
}

export function interruptedError(): LeangraphError {
  return new LeangraphError(
    CliErrorCode.interrupted,
    "Interrupted (Ctrl-C) at a safe point; nothing is half-written.",
  );
}
