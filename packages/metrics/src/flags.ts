import { isIP } from "node:net";
import { LeangraphError, MetricsErrorCode } from "@leangraph/errors";
import { z } from "zod";

/** Loopback only: metrics describe the machine, and nobody else should read them unless asked. */
export const DEFAULT_METRICS_HOST = "127.0.0.1";

const hostname =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** What each flag accepts, quoted in the error when a value is rejected. */
const ACCEPTED = {
  LG_METRICS_PORT:
    "a TCP port from 1 to 65535, or 0 for a free port the OS picks (printed); unset for no endpoint",
  LG_METRICS_HOST:
    "an IP address or host name of this machine, e.g. 127.0.0.1 (default) or 0.0.0.0 for every interface",
} as const;

/** The LG_* variables this package reads, in one schema. Empty strings count as unset. */
export const metricsEnvSchema = z.object({
  LG_METRICS_PORT: z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, ACCEPTED.LG_METRICS_PORT)
    .transform(Number)
    .pipe(z.number().int().min(0).max(65_535, ACCEPTED.LG_METRICS_PORT))
    .optional(),
  LG_METRICS_HOST: z
    .string()
    .trim()
    .refine((host) => isIP(host) !== 0 || hostname.test(host), ACCEPTED.LG_METRICS_HOST)
    .optional(),
});

export interface MetricsFlags {
  /** Undefined: no /metrics endpoint (and prom-client is never loaded). */
  port: number | undefined;
  host: string;
}

/**
 * Parses every flag of this package at once and fails fast with ERR_LG_INVALID_OPTION naming each
 * rejected variable, the value it had, and what is accepted.
 */
export function metricsFlagsFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsFlags {
  const relevant: Record<string, string> = {};
  for (const name of Object.keys(ACCEPTED)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") relevant[name] = value;
  }
  const parsed = metricsEnvSchema.safeParse(relevant);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    const problems = names.map(
      (name) =>
        `${name}=${JSON.stringify(relevant[name])} is not accepted: expected ${ACCEPTED[name as keyof typeof ACCEPTED]}`,
    );
    throw new LeangraphError(MetricsErrorCode.invalidOption, problems.join("; "), {
      cause: parsed.error,
      hint: "Fix or unset the variable(s) named above.",
    });
  }
  return {
    port: parsed.data.LG_METRICS_PORT,
    host: parsed.data.LG_METRICS_HOST ?? DEFAULT_METRICS_HOST,
  };
}
