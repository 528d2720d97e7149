import { interruptedError } from "./errors.js";

/**
 * Ctrl-C handling: the first SIGINT aborts the returned signal and lets the command stop at its
 * next safe point (between checkpoints, between threads), so nothing is half-written. A second
 * SIGINT exits at once: every write the CLI makes is one transaction (or an fsynced blob that gc
 * reclaims if no row names it), so even then nothing is left half-written.
 */
export function listenForInterrupt(
  onFirst: () => void,
  exitCode: number,
): {
  signal: AbortSignal;
  stop(): void;
} {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      process.stderr.write("\nsecond Ctrl-C: exiting now\n");
      process.exit(exitCode);
    }
    onFirst();
    controller.abort(interruptedError());
  };
  process.on("SIGINT", onSigint);
  return { signal: controller.signal, stop: () => process.off("SIGINT", onSigint) };
}

/**
 * A place where stopping leaves nothing half-written. It first yields to the event loop: a loop
 * of awaits that all resolve at once (SQLite calls are synchronous) runs entirely in microtasks,
 * and the SIGINT handler, a macrotask, would otherwise only run after the whole loop.
 */
export async function safePoint(signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}
