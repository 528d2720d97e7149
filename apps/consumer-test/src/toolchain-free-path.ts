import { spawnSync } from "node:child_process";
import { mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/** What node-gyp needs to compile a native addon; none of it may be reachable. */
export const compilerTools = ["python3", "python", "make", "gcc", "g++", "cc", "c++"] as const;

function locate(tool: string, path: string | undefined): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`], {
    env: { PATH: path ?? "" },
    encoding: "utf8",
  });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * A directory holding only node, npm, npx and sh (symlinks to the real ones), for a PATH like a
 * slim deployment image's: no compiler toolchain, so a native addon cannot build there.
 */
export function toolchainFreeBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const links: Record<string, string | undefined> = {
    node: process.execPath,
    npm: locate("npm", process.env.PATH),
    npx: locate("npx", process.env.PATH),
    sh: locate("sh", process.env.PATH),
  };
  for (const [name, target] of Object.entries(links)) {
    if (target === undefined)
      throw new Error(`${name} is not on PATH; the consumer test needs it.`);
    symlinkSync(realpathSync(target), join(dir, name));
  }
  return dir;
}

/** The compiler tools a shell finds on `path` (expected: none). */
export function compilerToolsOn(path: string): string[] {
  const sh = join(path, "sh");
  return compilerTools.filter(
    (tool) => spawnSync(sh, ["-c", `command -v ${tool}`], { env: { PATH: path } }).status === 0,
  );
}
