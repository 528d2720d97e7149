import { TrialFailure } from "./scenario-result.js";

/**
 * Awaits `operation` and requires it to reject with one of `codes`, with `mustName` in the message
 * (the item the user must go and look at). Resolving at all is the worst outcome: wrong data or a
 * silently dropped fault.
 */
export async function expectTypedFailure(
  operation: () => Promise<unknown>,
  codes: readonly string[],
  mustName: string,
): Promise<string> {
  let value: unknown;
  try {
    value = await operation();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = (error as Error).message ?? String(error);
    if (typeof code !== "string" || !codes.includes(code)) {
      throw new TrialFailure(
        `rejected with ${typeof code === "string" ? code : "no code"} (${message.slice(0, 160)}); expected ${codes.join(" or ")}`,
      );
    }
    if (!message.includes(mustName)) {
      throw new TrialFailure(`${code} does not name ${mustName}: ${message.slice(0, 160)}`);
    }
    return code;
  }
  throw new TrialFailure(
    `resolved instead of failing (${JSON.stringify(value)?.slice(0, 80) ?? "undefined"}): silently wrong`,
  );
}
