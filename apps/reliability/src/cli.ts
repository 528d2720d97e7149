import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import {
  type CliOptions,
  CliUsageError,
  mallocArenaMax,
  parseCliOptions,
  usage,
} from "./cli-options.js";
import {
  type FullSuiteFigures,
  type RunContext,
  renderReliabilityDoc,
  type SoakFigures,
  scenarioTable,
  soakTable,
} from "./report/render.js";
import { DEFAULT_MALLOC_ARENA_MAX, runSoak } from "./scenarios/soak.js";
import { runFullSuite, scenarioIds } from "./suite.js";
import { docsPath, figuresDir, repoRoot } from "./support/paths.js";
import { passed } from "./support/scenario-result.js";

async function readFigures<T>(name: string): Promise<T | undefined> {
  const path = join(figuresDir, `${name}.json`);
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, "utf8")) as T;
}

async function saveFigures(name: "full" | "soak" | "soak-custom", figures: unknown): Promise<void> {
  await mkdir(figuresDir, { recursive: true });
  await writeFile(join(figuresDir, `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  await renderDoc();
}

async function renderDoc(): Promise<void> {
  const doc = renderReliabilityDoc(
    await readFigures<FullSuiteFigures>("full"),
    await readFigures<SoakFigures>("soak"),
    await readFigures<SoakFigures>("soak-custom"),
  );
  await mkdir(dirname(docsPath), { recursive: true });
  await writeFile(docsPath, doc);
}

/**
 * The commit checked out when this process started: the code it loaded. A run takes hours, and
 * commits made meanwhile are not what it measured.
 */
const startCommit = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repoRoot,
      encoding: "utf8",
    }).trim();
  } catch {
    return "unknown";
  }
})();

function context(configuration: string): RunContext {
  return {
    finishedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: startCommit,
    node: process.version,
    cpus: cpus().length,
    configuration,
  };
}

function configurationLabel(options: CliOptions, defaults: string, fromEnv: string[] = []): string {
  // --scenarios splits the suite over runs; each row's own configuration is still the default.
  const flags = options.explicit.filter((name) => name !== "seed" && name !== "scenarios");
  const changes = [
    ...flags.map((name) => `--${name} ${String(options[name as keyof CliOptions])}`),
    ...fromEnv,
  ];
  if (changes.length === 0) return defaults;
  return `REDUCED/CUSTOM (${changes.join(" ")})`;
}

/**
 * --malloc-arena-max, else a MALLOC_ARENA_MAX already set in the environment (someone
 * reproducing the allocator effect), else the soak's default. A value other than the default
 * that came from the environment is named in the label like a flag would be.
 */
function soakMallocArenaMax(options: CliOptions): { value: string; fromEnv: string[] } {
  if (options["malloc-arena-max"] !== undefined) {
    return { value: options["malloc-arena-max"], fromEnv: [] };
  }
  const inherited = process.env.MALLOC_ARENA_MAX;
  if (inherited === undefined || inherited === "") {
    return { value: DEFAULT_MALLOC_ARENA_MAX, fromEnv: [] };
  }
  const parsed = mallocArenaMax.safeParse(inherited);
  if (!parsed.success) {
    throw new CliUsageError(
      `MALLOC_ARENA_MAX=${inherited} in the environment: ${parsed.error.issues[0]?.message}`,
    );
  }
  const changed = parsed.data !== DEFAULT_MALLOC_ARENA_MAX;
  return { value: parsed.data, fromEnv: changed ? [`MALLOC_ARENA_MAX=${parsed.data}`] : [] };
}

async function main(): Promise<number> {
  const options = parseCliOptions(process.argv.slice(2));
  if (options.command === "render") {
    await renderDoc();
    process.stdout.write(`${docsPath} rebuilt from ${figuresDir}\n`);
    return 0;
  }
  if (options.command === "full") {
    const only = options.scenarios ?? scenarioIds;
    const unknown = only.filter((id) => !scenarioIds.includes(id));
    if (unknown.length > 0) {
      throw new CliUsageError(
        `--scenarios: ${unknown.join(", ")} is not a scenario; the scenarios are ${scenarioIds.join(", ")}`,
      );
    }
    const results = await runFullSuite(
      {
        seed: options.seed,
        kills: options.kills,
        faultSteps: options["fault-steps"],
        putsPerProcess: options.puts,
        differentialSequences: options.sequences,
      },
      only,
    );
    const runContext = context(configurationLabel(options, "full (defaults)"));
    // A partial run replaces its own rows and keeps the others, saying where those came from.
    const previous =
      only.length < scenarioIds.length ? await readFigures<FullSuiteFigures>("full") : undefined;
    const kept = (previous?.results ?? []).filter((result) => !only.includes(result.id));
    if (kept.length > 0 && previous?.context.commit !== runContext.commit) {
      runContext.configuration += `; ${kept.map((result) => result.id).join(", ")} from an earlier run at ${previous?.context.commit}`;
    }
    const figures: FullSuiteFigures = {
      context: runContext,
      results: [...kept, ...results].sort(
        (left, right) => scenarioIds.indexOf(left.id) - scenarioIds.indexOf(right.id),
      ),
    };
    await saveFigures("full", figures);
    process.stdout.write(`\n${scenarioTable(results)}\n`);
    for (const result of results.filter((item) => !passed(item))) {
      process.stdout.write(
        `\n${result.id}: ${result.skippedReason ?? result.failureDetails.join("\n  ")}\n`,
      );
    }
    process.stdout.write(`\nFigures written to ${docsPath}\n`);
    return results.every(passed) ? 0 : 1;
  }
  const arenas = soakMallocArenaMax(options);
  const soak = await runSoak({
    steps: options.steps,
    hours: options.hours,
    segmentModules: options["segment-modules"],
    moduleBytes: options["module-size"],
    configurations: options.configs,
    mallocArenaMax: arenas.value,
  });
  const label = configurationLabel(
    options,
    "soak (defaults: 20,000 steps per configuration)",
    arenas.fromEnv,
  );
  const figures: SoakFigures = { context: context(label), soak };
  // A run with other options is kept beside the default one, never in its place.
  const custom = options.explicit.some((name) => name !== "seed") || arenas.fromEnv.length > 0;
  await saveFigures(custom ? "soak-custom" : "soak", figures);
  process.stdout.write(`\n${soakTable(soak)}\n\nFigures written to ${docsPath}\n`);
  return soak.passed ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    if (error instanceof CliUsageError) {
      process.stderr.write(`reliability: ${error.message}\n\n${usage}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`reliability: ${error.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
