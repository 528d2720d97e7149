import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./run-command.js";

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** The published packages, by name, with their folder under packages/. */
export const publishedPackages = {
  "@leangraph/errors": "errors",
  "@leangraph/serde": "serde",
  "@leangraph/checkpointer": "checkpointer",
  "@leangraph/workers": "workers",
  "@leangraph/cli": "cli",
  "@leangraph/metrics": "metrics",
} as const;

export type PublishedPackage = keyof typeof publishedPackages;

/**
 * `pnpm pack`s each package into `destination`, the way it would be published: pnpm rewrites
 * `workspace:*` ranges to the real versions and packs only `files` (dist). Returns the tarball of
 * each package. The packages must be built (turbo's test task builds them first).
 */
export async function packPackages(destination: string): Promise<Record<PublishedPackage, string>> {
  const tarballs = {} as Record<PublishedPackage, string>;
  for (const [name, folder] of Object.entries(publishedPackages) as [PublishedPackage, string][]) {
    const packageDir = join(repoRoot, "packages", folder);
    if (!existsSync(join(packageDir, "dist", "index.js"))) {
      throw new Error(`${name} is not built (no dist/index.js); run \`pnpm build\` first.`);
    }
    const { stdout } = await runCommand("pnpm", ["pack", "--pack-destination", destination], {
      cwd: packageDir,
      env: process.env,
    });
    const tarball = stdout.trim().split("\n").pop()!.trim();
    if (!tarball.endsWith(".tgz") || !existsSync(tarball)) {
      throw new Error(`pnpm pack of ${name} printed no tarball path:\n${stdout}`);
    }
    tarballs[name] = tarball;
  }
  return tarballs;
}
