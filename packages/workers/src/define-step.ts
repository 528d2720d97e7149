import type { z } from "zod";

/** What a step may return: the whole output at once, or chunks for outputs too big to hold. */
export type StepContent =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

/** Passed to every step function next to its input. */
export interface StepContext {
  /** The worker thread running the step (0 when `LG_USE_WORKERS=off`). */
  threadId: number;
  /** Where the content will land, relative to the output dir. */
  outputName: string;
}

export type StepFunction<Input = unknown> = (
  input: Input,
  context: StepContext,
) => StepContent | Promise<StepContent>;

/** A step whose input is checked against a zod schema inside the worker, before `run`. */
export interface StepDefinition<Schema extends z.ZodType> {
  input: Schema;
  run: StepFunction<z.output<Schema>>;
}

/**
 * Declares a step with a zod input schema. Import it from `@leangraph/workers/step`, which loads
 * nothing but this file, so a fresh isolate boots without the pool's own dependencies.
 *
 * @example
 * export const generate = defineStep({
 *   input: z.object({ file: z.string(), spec: z.string() }),
 *   run: async ({ spec }) => renderFile(spec),
 * });
 */
export function defineStep<Schema extends z.ZodType>(
  definition: StepDefinition<Schema>,
): StepDefinition<Schema> {
  return definition;
}
