/**
 * The text the text-in-state bench stores, the same in every process of a run:
 * - `demo`: the demo agent's own modules (apps/demo-agent's generator, seed "leangraph", 200
 *   modules of 13 KB: its defaults), as `--state naive` holds them;
 * - `record`: real code, the `.js`/`.cjs` files over 4 KB of the installed @langchain/core and
 *   @langchain/langgraph (about 11 KB each), sorted by path, the first BENCH_TEXT_FILES (200).
 * The bench loads the demo's generator from its source by path at run time (tsx runs it): it is
 * a program of this repository, not a dependency of the package (the demo depends on this one).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type TextShape = "demo" | "record";

export interface CorpusFile {
  path: string;
  text: string;
}

const fileCount = Number(process.env.BENCH_TEXT_FILES ?? 200);
const demoModuleBytes = 13 * 1024;
const codeFileMinBytes = 4 * 1024;

function codeFiles(): CorpusFile[] {
  const require = createRequire(import.meta.url);
  const files: CorpusFile[] = [];
  for (const name of ["@langchain/core", "@langchain/langgraph"]) {
    const root = dirname(require.resolve(`${name}/package.json`));
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (/\.c?js$/.test(entry.name) && statSync(path).size > codeFileMinBytes)
          files.push({ path: `${name}/${relative(root, path)}`, text: readFileSync(path, "utf8") });
      }
    };
    visit(join(root, "dist"));
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files.slice(0, fileCount);
}

interface DemoGenerator {
  planProject(seed: string, moduleCount: number): { path: string }[];
  renderModuleSource(module: { path: string }, seed: string, targetBytes: number): string;
}

async function demoModules(): Promise<CorpusFile[]> {
  const generatorDir = fileURLToPath(
    new URL("../../../apps/demo-agent/src/generator/", import.meta.url),
  );
  const load = async (file: string) =>
    (await import(pathToFileURL(join(generatorDir, file)).href)) as Partial<DemoGenerator>;
  const { planProject } = await load("plan-modules.ts");
  const { renderModuleSource } = await load("render-module.ts");
  if (planProject === undefined || renderModuleSource === undefined)
    throw new Error(`the demo's generator moved: ${generatorDir}`);
  const seed = "leangraph";
  return planProject(seed, fileCount).map((module) => ({
    path: module.path,
    text: renderModuleSource(module, seed, demoModuleBytes),
  }));
}

export async function textCorpus(shape: TextShape): Promise<CorpusFile[]> {
  return shape === "demo" ? demoModules() : codeFiles();
}
