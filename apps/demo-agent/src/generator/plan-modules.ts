import { createSeededRandom } from "./seeded-random.js";
import {
  type DomainEntity,
  type ModuleKind,
  moduleKindNames,
  moduleKinds,
  warehouseEntities,
} from "./warehouse-spec.js";

/** One file the agent will generate. Small and JSON-only: it travels in `Send` payloads. */
export interface ModuleSpec {
  /** Position in the plan; waves are consecutive slices of it. */
  index: number;
  /** Stable id, e.g. `m0007`; also the generated file's log key. */
  id: string;
  kind: ModuleKind;
  entity: string;
  /** Project-relative path, e.g. `src/features/purchase-order/PurchaseOrderTable.tsx`. */
  path: string;
}

const kebabCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/**
 * Seeds whose shuffle is kept. Every thread has its own seed, so an unbounded map grew ~9 KB per
 * thread for the life of the process (the soak saw it); a few cover the threads that run at once,
 * and a shuffle evicted early is only recomputed.
 */
const MAX_CACHED_SEEDS = 16;
const combinationsBySeed = new Map<string, Array<{ entity: DomainEntity; kind: ModuleKind }>>();

/** Every entity x kind pair, shuffled once per seed, so a plan reads like a varied project. */
function shuffledCombinations(seed: string) {
  let combinations = combinationsBySeed.get(seed);
  if (!combinations) {
    const all = warehouseEntities.flatMap((entity) =>
      moduleKindNames.map((kind) => ({ entity, kind })),
    );
    combinations = createSeededRandom(`${seed}:plan`).sample(all, all.length);
    if (combinationsBySeed.size >= MAX_CACHED_SEEDS) {
      // A Map iterates in insertion order: the first key is the oldest seed.
      combinationsBySeed.delete(combinationsBySeed.keys().next().value!);
    }
    combinationsBySeed.set(seed, combinations);
  }
  return combinations;
}

/**
 * The module at `index` of the plan for `seed`. A pure function of its arguments, so a wave's
 * leader can name the next wave's modules from indices alone (see graph/generate-node.ts).
 */
export function planModule(seed: string, index: number): ModuleSpec {
  const combinations = shuffledCombinations(seed);
  const { entity, kind } = combinations[index % combinations.length]!;
  // Past one full pass over entity x kind, later passes are "v2", "v3" variants of the same file.
  const variant = Math.floor(index / combinations.length);
  const fileName = moduleKinds[kind].fileName(entity.name);
  const variantFileName =
    variant === 0
      ? fileName
      : fileName.replace(/(\.types)?\.tsx?$/, (ext) => `V${variant + 1}${ext}`);
  return {
    index,
    id: `m${String(index).padStart(4, "0")}`,
    kind,
    entity: entity.name,
    path: `src/features/${kebabCase(entity.name)}/${variantFileName}`,
  };
}

export function planProject(seed: string, moduleCount: number): ModuleSpec[] {
  return Array.from({ length: moduleCount }, (_, index) => planModule(seed, index));
}

export function findEntity(name: string): DomainEntity {
  const entity = warehouseEntities.find((candidate) => candidate.name === name);
  if (!entity) throw new Error(`unknown entity ${name}`);
  return entity;
}
