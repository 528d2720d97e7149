import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dropSchema, postgresOrSkip, postgresUrl, uniqueSchema } from "@leangraph/test-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConsumerProject,
  consumerEnv,
  installConsumerProject,
  workspaceRanges,
} from "../src/consumer-project.js";
import { type PublishedPackage, packPackages } from "../src/pack-packages.js";
import { runCommand, runJsonApp } from "../src/run-command.js";
import { compilerToolsOn, toolchainFreeBin } from "../src/toolchain-free-path.js";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const postgresUnavailable = await postgresOrSkip("the Postgres-only consumer");
/** The shared Redis the step queue consumer uses (its queue has a name of its own). */
const redisUrl = process.env.LG_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const redisUnavailable = await redisOrSkip(redisUrl);

/** A PING over a plain socket (this project does not depend on a Redis client itself). */
async function redisOrSkip(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  const answer = await new Promise<string>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(2000, () => socket.destroy(new Error("timed out")));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (chunk) => {
      resolve(chunk.toString().trim());
      socket.end();
    });
    socket.once("error", (error) => resolve(error.message));
  });
  if (answer === "+PONG") return undefined;
  const reason = `Redis at ${hostname}:${port} did not answer PING (${answer})`;
  if (process.env.CI === "true") throw new Error(`${reason}; CI=true requires it.`);
  console.warn(`[skip] ${reason}; skipping the step queue consumer.`);
  return reason;
}

const root = mkdtempSync(join(tmpdir(), "lg-consumer-"));
const startedMs = performance.now();
const timings: Record<string, number> = {};
let tarballs: Record<PublishedPackage, string>;
let full: ConsumerProject;
let postgresOnly: ConsumerProject | undefined;
let restrictedPath: string;
const schema = uniqueSchema("consumer");

function fileSpec(name: PublishedPackage): string {
  return `file:${tarballs[name]}`;
}

/** Every copy of a package installed under `dir` (npm must install exactly one). */
function installedCopies(dir: string, name: string): string[] {
  const copies: string[] = [];
  const visit = (nodeModules: string) => {
    if (!existsSync(nodeModules)) return;
    if (existsSync(join(nodeModules, name, "package.json"))) copies.push(join(nodeModules, name));
    for (const entry of readdirSync(nodeModules)) {
      const scoped = entry.startsWith("@")
        ? readdirSync(join(nodeModules, entry)).map((inner) => join(entry, inner))
        : [entry];
      for (const packageDir of scoped) visit(join(nodeModules, packageDir, "node_modules"));
    }
  };
  visit(join(dir, "node_modules"));
  return copies;
}

beforeAll(async () => {
  const packedMs = performance.now();
  const tarballDir = join(root, "tarballs");
  mkdirSync(tarballDir);
  tarballs = await packPackages(tarballDir);
  timings.packMs = performance.now() - packedMs;
  const ranges = workspaceRanges();
  restrictedPath = toolchainFreeBin(join(root, "toolchain-free-bin"));

  // One project for the ESM, CommonJS and TypeScript consumers, so better-sqlite3 compiles once
  // (~80 s); the Postgres-only one installs beside it, on a PATH without any compiler.
  const installs: Promise<void>[] = [
    installConsumerProject(
      join(root, "full"),
      {
        "@leangraph/errors": fileSpec("@leangraph/errors"),
        "@leangraph/serde": fileSpec("@leangraph/serde"),
        "@leangraph/checkpointer": fileSpec("@leangraph/checkpointer"),
        "@leangraph/workers": fileSpec("@leangraph/workers"),
        "@leangraph/cli": fileSpec("@leangraph/cli"),
        "@leangraph/metrics": fileSpec("@leangraph/metrics"),
        ...ranges,
      },
      consumerEnv(process.env.PATH ?? ""),
    ).then((project) => {
      full = project;
      timings.fullInstallMs = project.installMs;
    }),
  ];
  if (postgresUnavailable === undefined) {
    installs.push(
      installConsumerProject(
        join(root, "postgres-only"),
        {
          "@leangraph/errors": fileSpec("@leangraph/errors"),
          "@leangraph/serde": fileSpec("@leangraph/serde"),
          "@leangraph/checkpointer": fileSpec("@leangraph/checkpointer"),
          "@langchain/core": ranges["@langchain/core"]!,
          "@langchain/langgraph": ranges["@langchain/langgraph"]!,
          "@langchain/langgraph-checkpoint": ranges["@langchain/langgraph-checkpoint"]!,
          pg: ranges.pg!,
        },
        consumerEnv(restrictedPath),
      ).then((project) => {
        postgresOnly = project;
        timings.postgresOnlyInstallMs = project.installMs;
      }),
    );
  }
  await Promise.all(installs);
  for (const file of readdirSync(fixtures)) cpSync(join(fixtures, file), join(full.dir, file));
  if (postgresOnly) cpSync(join(fixtures, "postgres-app.mjs"), join(postgresOnly.dir, "app.mjs"));
});

afterAll(async () => {
  if (postgresUnavailable === undefined) await dropSchema(schema);
  rmSync(root, { recursive: true, force: true });
  const seconds = (ms: number | undefined) =>
    ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `[consumer-test] pack ${seconds(timings.packMs)}, full install ${seconds(timings.fullInstallMs)}, ` +
      `postgres-only install ${seconds(timings.postgresOnlyInstallMs)}, ` +
      `whole file ${seconds(performance.now() - startedMs)}`,
  );
});

describe("the packed tarballs, installed with plain npm into fresh projects", () => {
  it("install exactly one copy of @leangraph/errors, so instanceof holds across packages", () => {
    expect(installedCopies(full.dir, "@leangraph/errors")).toEqual([
      join(full.dir, "node_modules", "@leangraph/errors"),
    ]);
  });

  it("ESM: a StateGraph checkpointed through createCheckpointer() (SQLite) reads its state back", async () => {
    const runDir = join(root, "esm-run");
    const result = await runJsonApp([join(full.dir, "esm-app.mjs"), runDir], {
      cwd: full.dir,
      env: consumerEnv(process.env.PATH ?? ""),
    });
    expect(result).toMatchObject({
      saverIsLeanSqlite: true,
      files: 3,
      fileBytes: [300 * 1024, 300 * 1024, 300 * 1024],
      sameState: true,
      history: 9,
    });
    expect(result.blobCount).toBeGreaterThanOrEqual(3);
    expect(result.largestCheckpointRowBytes).toBeLessThan(4096);
    // The stock saver is an optional peer this project did not install: a coded error says so.
    expect(result.stockRefusal).toMatchObject({
      isLeangraphError: true,
      code: "ERR_LG_DRIVER_MISSING",
      message: expect.stringContaining("@langchain/langgraph-checkpoint-sqlite"),
      hint: expect.stringContaining("npm install"),
    });
    expect((result.stockRefusal as { message: string }).message).not.toContain("better-sqlite3");
  });

  it("metrics: a scrape and the dashboard count what the agent did; LG_METRICS_PORT unset serves nothing", async () => {
    const result = await runJsonApp(
      [join(full.dir, "metrics-app.mjs"), join(root, "metrics-run")],
      {
        cwd: full.dir,
        env: consumerEnv(process.env.PATH ?? ""),
      },
    );
    expect(result).toMatchObject({
      steps: 1,
      dashboard: { stepsSucceeded: 1 },
      offEndpoint: "none",
    });
    expect(result.puts).toBe(result.checkpoints);
    expect(result.storedCheckpoints).toBe(result.checkpoints);
    expect(result.databaseBytes).toBe(result.statsDatabaseBytes);
    expect(result.heapUsedBytes).toBeGreaterThan(0);
    expect((result.dashboard as { checkpointsPut: number }).checkpointsPut).toBe(
      result.checkpoints,
    );
  });

  it.skipIf(redisUnavailable !== undefined)(
    "step queue: leangraph-worker from the tarball runs a step sent over BullMQ; bullmq and ioredis came as optional dependencies",
    async () => {
      const result = await runJsonApp(
        [join(full.dir, "queue-app.mjs"), join(root, "queue-run"), redisUrl],
        { cwd: full.dir, env: consumerEnv(process.env.PATH ?? "") },
      );
      expect(result).toEqual({
        mode: "queue",
        greeting: "hello queue\n",
        workerId: "consumer-worker",
        failure: { isLeangraphError: true, code: "ERR_LG_STEP_FAILED" },
        workerExit: 0,
      });
    },
  );

  it("CLI: the `leangraph` bin from the tarball inspects, verifies and prunes the ESM app's database", async () => {
    // Runs the bin npm linked, as a user's `npx leangraph` does; reads the ESM consumer's store.
    const database = join(root, "esm-run", "checkpoints.sqlite");
    expect(existsSync(database)).toBe(true);
    const leangraph = async (...args: string[]) => {
      const { stdout } = await runCommand(
        join(full.dir, "node_modules", ".bin", "leangraph"),
        [...args, "--json"],
        { cwd: full.dir, env: consumerEnv(process.env.PATH ?? "") },
      );
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const inspected = await leangraph("inspect", database);
    expect(inspected).toMatchObject({ kind: "lean", backend: "sqlite", orphanBlobs: [] });
    expect((inspected.channels as { channel: string }[])[0]!.channel).toBe("files");
    expect(await leangraph("verify", database)).toMatchObject({ ok: true, threads: 1, damage: [] });
    expect(await leangraph("prune", database, "--keep-last", "2", "--dry-run")).toMatchObject({
      dryRun: true,
      deletedCheckpoints: 7,
    });
  });

  it("CommonJS: require() loads every package, and each works", async () => {
    const result = await runJsonApp([join(full.dir, "cjs-app.cjs"), join(root, "cjs-run")], {
      cwd: full.dir,
      env: consumerEnv(process.env.PATH ?? ""),
    });
    expect(result.entryPoints).toEqual({
      checkpointer: "function",
      flags: "sqlite",
      postgres: "function",
      defineStep: "function",
      metrics: "function",
      dashboard: "function",
    });
    expect(result.tupleNote).toBe("written from CommonJS");
    expect(result.roundTrip).toBe(true);
    expect(result.blobs).toBe(1);
    expect(result.payloadBytes).toBeLessThan(1024);
    expect(result.step).toEqual({ text: "hello cjs\n", bytes: 10 });
    expect(result.stepFailure).toMatchObject({
      isLeangraphError: true,
      isStepError: true,
      code: "ERR_LG_STEP_FAILED",
    });
    for (const [key, named] of [
      ["invalidSaver", "busyTimeout=1 is not an option"],
      ["invalidStore", 'directory="x" is not an option'],
      ["invalidPool", "threads=0 is not accepted"],
      ["invalidPgStore", "chunkBytes=0 is not accepted"],
    ] as const) {
      expect(result[key], key).toMatchObject({
        isLeangraphError: true,
        code: "ERR_LG_INVALID_OPTION",
        message: expect.stringContaining(named),
      });
    }
    expect(result.sameClassEverywhere).toBe(true);
    expect(result.codes).toEqual({
      driverMissing: "ERR_LG_DRIVER_MISSING",
      stepFailed: "ERR_LG_STEP_FAILED",
    });
  });

  // Both checks read the same files; side by side they take one check's wall time, not two.
  it.concurrent.each(["node16", "bundler"])(
    "TypeScript: the declarations type-check with moduleResolution %s (skipLibCheck off)",
    async (resolution) => {
      const tsc = join(full.dir, "node_modules", "typescript", "bin", "tsc");
      await expect(
        runCommand(process.execPath, [tsc, "-p", `tsconfig.${resolution}.json`], {
          cwd: full.dir,
          env: consumerEnv(process.env.PATH ?? ""),
        }),
      ).resolves.toMatchObject({ stdout: "" });
    },
  );

  it.skipIf(postgresUnavailable !== undefined)(
    "Postgres only, no compiler toolchain: LeanPostgresSaver runs against the real server",
    async () => {
      expect(compilerToolsOn(restrictedPath)).toEqual([]);
      const project = postgresOnly!;
      expect(existsSync(join(project.dir, "node_modules", "better-sqlite3"))).toBe(false);
      const result = await runJsonApp(
        [join(project.dir, "app.mjs"), postgresUrl, schema, join(root, "postgres-run")],
        { cwd: project.dir, env: consumerEnv(restrictedPath) },
      );
      expect(result).toMatchObject({
        betterSqlite3Installed: false,
        files: 3,
        fileBytes: [300 * 1024, 300 * 1024, 300 * 1024],
        sameState: true,
      });
      expect(result.blobCount).toBeGreaterThanOrEqual(3);
      expect(result.largestCheckpointRowBytes).toBeLessThan(4096);
      // Choosing a backend whose packages are absent fails with a code naming what to install.
      expect(result.sqliteRefusal).toMatchObject({
        refused: true,
        isLeangraphError: true,
        code: "ERR_LG_DRIVER_MISSING",
        message: expect.stringContaining("better-sqlite3"),
        hint: expect.stringContaining('npm install "better-sqlite3@'),
      });
      expect(result.stockRefusal).toMatchObject({
        refused: true,
        code: "ERR_LG_DRIVER_MISSING",
        message: expect.stringContaining("@langchain/langgraph-checkpoint-postgres"),
      });
    },
  );
});
