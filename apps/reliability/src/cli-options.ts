import { parseArgs } from "node:util";
import { z } from "zod";
import { defaultDifferentialSequences } from "./scenarios/differential.js";

export const usage = `Usage: tsx src/cli.ts <command> [options]

Commands:
  full     every scenario with its full configuration (pnpm test:reliability)
  soak     the demo agent for thousands of steps, heap and RSS slopes (pnpm soak)
  render   rebuild docs/reliability.md from the saved figures (no scenario runs)

full options:
  --seed TEXT          seed for kill moments and fault order (default "leangraph")
  --kills N            SIGKILLs per backend (default 20)
  --fault-steps N      worker-fault steps (default 200)
  --puts N             puts per SQLite process (default 200)
  --sequences N        differential-fuzzing sequences, each on every lean configuration (default ${defaultDifferentialSequences})
  --scenarios LIST     run only these (comma-separated ids); their rows replace those of the
                       figures saved before, the others stay (default: every scenario)

soak options:
  --steps N            steps per configuration, at least (default 20000)
  --hours H            run each configuration this long instead (e.g. 8)
  --segment-modules N  modules per thread; memory is sampled between threads (default 100)
  --module-size BYTES  bytes per generated module (default 4096)
  --configs LIST       leangraph,flags-off (default both, each in a process of its own)
  --malloc-arena-max N MALLOC_ARENA_MAX of those processes, or "default" for glibc's own
                       (default: MALLOC_ARENA_MAX from the environment if set, else 2)

Both commands print a table, save their figures under apps/reliability/figures/ and rewrite
docs/reliability.md. Exit code 0 when everything passed, 1 otherwise, 2 for bad options.`;

const whole = (name: string, min: number) =>
  z.coerce
    .number({ message: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`);

/** A whole number of arenas, or "default" to leave MALLOC_ARENA_MAX unset. */
export const mallocArenaMax = z
  .string()
  .trim()
  .regex(/^(default|[1-9][0-9]*)$/, {
    message: 'MALLOC_ARENA_MAX (--malloc-arena-max) must be a whole number >= 1 or "default"',
  });

const schema = z.object({
  command: z.enum(["full", "soak", "render"], {
    message: "the command must be full, soak or render",
  }),
  seed: z.string().min(1).default("leangraph"),
  kills: whole("--kills", 1).default(20),
  "fault-steps": whole("--fault-steps", 1).default(200),
  puts: whole("--puts", 1).default(200),
  sequences: whole("--sequences", 1).default(defaultDifferentialSequences),
  scenarios: z
    .string()
    .optional()
    .transform((text) => text?.split(",").map((part) => part.trim())),
  steps: whole("--steps", 1).default(20_000),
  hours: z.coerce
    .number({ message: "--hours must be a number" })
    .positive("--hours must be positive")
    .optional(),
  "segment-modules": whole("--segment-modules", 2).default(100),
  "module-size": whole("--module-size", 256).default(4096),
  configs: z
    .string()
    .default("leangraph,flags-off")
    .transform((text) => text.split(",").map((part) => part.trim()))
    .pipe(
      z
        .array(
          z.enum(["leangraph", "flags-off"], {
            message: "--configs takes leangraph and/or flags-off",
          }),
        )
        .min(1),
    ),
  "malloc-arena-max": mallocArenaMax.optional(),
});

export type CliOptions = z.output<typeof schema> & { explicit: string[] };

export class CliUsageError extends Error {}

export function parseCliOptions(argv: string[]): CliOptions {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv.filter((arg) => arg !== "--"),
      allowPositionals: true,
      strict: true,
      options: {
        seed: { type: "string" },
        kills: { type: "string" },
        "fault-steps": { type: "string" },
        puts: { type: "string" },
        sequences: { type: "string" },
        scenarios: { type: "string" },
        steps: { type: "string" },
        hours: { type: "string" },
        "segment-modules": { type: "string" },
        "module-size": { type: "string" },
        configs: { type: "string" },
        "malloc-arena-max": { type: "string" },
      },
    });
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const result = schema.safeParse({ command: parsed.positionals[0], ...parsed.values });
  if (!result.success) {
    throw new CliUsageError(result.error.issues.map((issue) => issue.message).join("; "));
  }
  return { ...result.data, explicit: Object.keys(parsed.values) };
}
