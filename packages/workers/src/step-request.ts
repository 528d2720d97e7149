import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { StepError, type StepErrorCode, stepErrorCodes, WorkersErrorCode } from "./errors.js";
import { findNonJsonPart } from "./json-input.js";

/** The failures a retry policy retries unless told otherwise: the ones a fresh isolate may cure. */
export const DEFAULT_RETRYABLE_CODES: readonly StepErrorCode[] = [
  WorkersErrorCode.outOfMemory,
  WorkersErrorCode.timeout,
  WorkersErrorCode.exited,
  WorkersErrorCode.workerBootFailed,
];

const moduleSpecifier = z
  .string()
  .min(1)
  .refine((value) => value.startsWith("file:") || isAbsolute(value), {
    message: "expected an absolute path or a file: URL of an ES module",
  })
  .transform((value) => (value.startsWith("file:") ? value : pathToFileURL(value).href));

/**
 * A relative file path inside the run's output dir. Anything that could land outside it
 * (absolute, `..`, a drive letter, NUL) is rejected here, before any worker starts.
 */
const outputName = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (value) =>
      !value.includes("\0") &&
      !isAbsolute(value) &&
      !value.includes("\\") &&
      value.split("/").every((segment) => segment !== "" && segment !== "." && segment !== ".."),
    {
      message:
        "expected a relative path like 'src/app.ts' inside the output dir (no '..', '.', empty segments, backslashes or absolute paths)",
    },
  );

export const retryPolicySchema = z.strictObject({
  /** Extra attempts after the first one. */
  retries: z.number().int().min(0).max(10),
  /** Codes worth another attempt. @default ERR_WORKER_OUT_OF_MEMORY, ERR_LG_STEP_TIMEOUT, ERR_LG_STEP_EXITED, ERR_LG_WORKER_BOOT_FAILED */
  retryOn: z.array(z.enum(stepErrorCodes)).optional(),
});

export type RetryPolicy = z.input<typeof retryPolicySchema>;

export const stepRequestSchema = z.strictObject({
  modulePath: moduleSpecifier,
  exportName: z
    .string()
    .regex(/^[A-Za-z_$][\w$]*$/, { message: "expected a JavaScript export name, e.g. 'generate'" }),
  input: z.unknown().superRefine((value, context) => {
    const problem = findNonJsonPart(value);
    if (problem) context.addIssue({ code: "custom", message: problem });
  }),
  outputName,
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  retry: retryPolicySchema.optional(),
  durable: z.boolean().default(true),
});

/** What `pool.run()` takes: which export of which ES module to call, with what, writing where. */
export interface StepRequest {
  /**
   * Absolute path or file: URL of the ES module holding the step. Required by a local pool; a
   * queue pool never sends it (workers find `exportName` among their `--steps` modules).
   */
  modulePath?: string;
  /** Name of the export: a function, or a `defineStep({ input, run })` object. */
  exportName: string;
  /** JSON-compatible input; checked against the step's own zod schema when it has one. */
  input: unknown;
  /** File name (relative path allowed) inside the pool's output dir. */
  outputName: string;
  /** Overrides the pool's wall-clock budget for this step. @default pool `stepTimeoutMs` */
  timeoutMs?: number;
  /** Retry policy for this step. @default no retries */
  retry?: RetryPolicy;
  /**
   * `false` skips the fsyncs (file and directory) after the atomic rename: for outputs that can
   * be rebuilt and that nothing durable points to, e.g. a report the caller reads right away.
   * Readers still see the whole file or none. @default true
   */
  durable?: boolean;
}

export type ParsedStepRequest = z.output<typeof stepRequestSchema>;

export function stepLabel(request: { modulePath?: string; exportName: string }): string {
  if (request.modulePath === undefined) return request.exportName;
  const file = request.modulePath.split("/").pop() ?? request.modulePath;
  return `${file}#${request.exportName}`;
}

export function parseStepRequest(request: StepRequest): ParsedStepRequest {
  const parsed = stepRequestSchema.safeParse(request);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues
    .map((issue) => `${issue.path.join(".") || "request"}: ${issue.message}`)
    .join("; ");
  throw new StepError(WorkersErrorCode.inputInvalid, `Step request rejected: ${where}`, {
    cause: parsed.error,
    stepLabel: typeof request?.exportName === "string" ? stepLabel(request) : "unknown step",
    hint: "modulePath must be absolute or file:, input must be JSON (no undefined, functions, BigInt or cycles), outputName relative inside the output dir.",
  });
}

/** Resolves an already validated output name under the output dir, re-checking containment. */
export function resolveOutputPath(outputDir: string, name: string): string {
  const root = resolve(outputDir);
  const target = resolve(root, name);
  const inside = relative(root, target);
  if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) {
    throw new StepError(
      WorkersErrorCode.inputInvalid,
      `Output name ${JSON.stringify(name)} resolves outside the output dir ${root}`,
      { stepLabel: "output path" },
    );
  }
  return target;
}
