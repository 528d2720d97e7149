import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { demoAgentDir } from "./paths.js";

/** The slice of the demo's `runAgent` the soak drives, in the demo's own process shape. */
export interface DemoProgressState {
  modulesDone: number;
  modulesTotal: number;
}

export interface DemoRunOptions {
  moduleCount: number;
  targetBytes: number;
  seed: string;
  threadId: string;
  runDir: string;
  stateShape: "lean" | "naive";
  env: NodeJS.ProcessEnv;
  progress: {
    update(state: DemoProgressState): void;
    log(line: string): void;
    done(): void;
  };
}

export type RunAgent = (options: DemoRunOptions) => Promise<{ status: string; files: number }>;

/**
 * Loads the demo agent's `runAgent` from its build, so the soak runs the agent in this process and
 * samples this process's heap. The demo's package exports no API (it is a CLI), hence the path
 * into dist/; if the file moves, this says so instead of failing obscurely.
 */
export async function loadRunAgent(): Promise<RunAgent> {
  const modulePath = join(demoAgentDir, "dist", "run", "run-agent.js");
  if (!existsSync(modulePath)) {
    throw new Error(
      `${modulePath} not found: build the demo first (pnpm --filter @leangraph/demo-agent build).`,
    );
  }
  const module = (await import(pathToFileURL(modulePath).href)) as { runAgent?: RunAgent };
  if (typeof module.runAgent !== "function") {
    throw new Error(
      `${modulePath} no longer exports runAgent; update apps/reliability/src/support/demo-agent-runner.ts.`,
    );
  }
  return module.runAgent;
}
