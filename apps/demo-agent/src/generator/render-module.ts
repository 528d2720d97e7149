import type { ModuleSpec } from "./plan-modules.js";
import { findEntity } from "./plan-modules.js";
import { createSeededRandom, type SeededRandom } from "./seeded-random.js";
import type { DomainEntity, EntityField } from "./warehouse-spec.js";

/**
 * Renders one module of the warehouse project as TypeScript/TSX source of at least
 * `targetBytes` bytes: a header (imports, the main declaration) followed by self-contained
 * top-level blocks (sub-components, hooks, helpers, fixtures, ...) until the size is reached.
 * Every block is a complete declaration, so the file parses at any size. Output is ASCII, so
 * string length equals byte length, and is byte-identical for the same seed and module.
 */
export function renderModuleSource(module: ModuleSpec, seed: string, targetBytes: number): string {
  const random = createSeededRandom(`${seed}:${module.id}:${module.path}`);
  const entity = findEntity(module.entity);
  const context: BlockContext = { random, entity, module };
  const parts: string[] = [renderHeader(context)];
  let size = parts[0]!.length;
  const blocks = blockMix[module.kind];
  for (let blockIndex = 1; size < targetBytes; blockIndex++) {
    const block = random.pick(blocks)(context, blockIndex);
    parts.push(block);
    size += block.length;
  }
  return parts.join("");
}

interface BlockContext {
  random: SeededRandom;
  entity: DomainEntity;
  module: ModuleSpec;
}

type BlockRenderer = (context: BlockContext, blockIndex: number) => string;

const isTsx = (module: ModuleSpec) => module.path.endsWith(".tsx");

const tsType = (field: EntityField, entity: DomainEntity) =>
  field.type === "status" ? `${entity.name}Status` : field.type;

const nouns = [
  "Summary",
  "Overview",
  "Breakdown",
  "Digest",
  "Snapshot",
  "Report",
  "Panel",
  "Strip",
  "Card",
  "Badge",
];
const verbs = [
  "Filter",
  "Sort",
  "Group",
  "Select",
  "Paginate",
  "Search",
  "Refresh",
  "Export",
  "Highlight",
];
const cities = [
  "Rotterdam",
  "Lyon",
  "Leipzig",
  "Gdansk",
  "Valencia",
  "Porto",
  "Brno",
  "Malmo",
  "Graz",
  "Turin",
];
const words = [
  "north",
  "south",
  "cold",
  "bulk",
  "fast",
  "returns",
  "inbound",
  "outbound",
  "mezzanine",
  "overflow",
];

function sampleValue(field: EntityField, random: SeededRandom, entity: DomainEntity): string {
  switch (field.type) {
    case "string":
      return `"${random.pick(words)}-${random.pick(cities).toLowerCase()}-${random.int(100, 99999)}"`;
    case "number":
      return String(random.int(0, 5000) / (random.chance(0.3) ? 100 : 1));
    case "boolean":
      return String(random.chance(0.5));
    case "Date":
      return `new Date("2025-${String(random.int(1, 12)).padStart(2, "0")}-${String(random.int(1, 28)).padStart(2, "0")}T${String(random.int(0, 23)).padStart(2, "0")}:00:00Z")`;
    case "status":
      return `"${random.pick(entity.statuses)}"`;
  }
}

function formatExpression(field: EntityField, variable: string): string {
  switch (field.type) {
    case "Date":
      return `${variable}.${field.name}.toISOString().slice(0, 10)`;
    case "number":
      return `${variable}.${field.name}.toLocaleString("en-US", { maximumFractionDigits: 2 })`;
    case "boolean":
      return `(${variable}.${field.name} ? "yes" : "no")`;
    default:
      return `String(${variable}.${field.name})`;
  }
}

function renderHeader({ entity, module, random }: BlockContext): string {
  const e = entity.name;
  const statusUnion = entity.statuses.map((status) => `"${status}"`).join(" | ");
  const fields = entity.fields
    .map((field) => `  ${field.name}: ${tsType(field, entity)};`)
    .join("\n");
  const banner = `// ${module.path}\n// Warehouse management system: ${entity.label} ${module.kind} (generated module ${module.id}).\n\n`;
  if (module.kind === "types") {
    return `${banner}export type ${e}Status = ${statusUnion};\n\nexport interface ${e} {\n  id: string;\n  status: ${e}Status;\n${fields}\n  updatedAt: Date;\n}\n\nexport interface ${e}Page {\n  items: ${e}[];\n  total: number;\n  cursor: string | null;\n}\n`;
  }
  const typeImport = `import type { ${e}, ${e}Page, ${e}Status } from "./${e}.types";\n`;
  if (!isTsx(module)) {
    const reactImport =
      module.kind === "hook"
        ? `import { useCallback, useEffect, useMemo, useState } from "react";\n`
        : "";
    return `${banner}${reactImport}${typeImport}\nexport const ${e.toUpperCase()}_STATUSES: readonly ${e}Status[] = [${entity.statuses.map((s) => `"${s}"`).join(", ")}];\n`;
  }
  const columns = random.sample(entity.fields, Math.max(2, entity.fields.length - 1));
  const headerCells = columns
    .map(
      (field) =>
        `            <th scope="col" onClick={() => onSort("${field.name}")}>${field.name}</th>`,
    )
    .join("\n");
  const bodyCells = columns
    .map((field) => `              <td>{${formatExpression(field, "row")}}</td>`)
    .join("\n");
  const component = `${e}${module.kind[0]!.toUpperCase()}${module.kind.slice(1)}`;
  return `${banner}import { useCallback, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
${typeImport}
export const ${e.toUpperCase()}_STATUSES: readonly ${e}Status[] = [${entity.statuses.map((s) => `"${s}"`).join(", ")}];

export interface ${component}Props {
  page: ${e}Page;
  loading?: boolean;
  selectedId?: string | null;
  onSelect?: (item: ${e}) => void;
  onStatusChange?: (id: string, status: ${e}Status) => Promise<void>;
  footer?: ReactNode;
}

type SortKey = keyof ${e};

export default function ${component}({ page, loading = false, selectedId = null, onSelect, onStatusChange, footer }: ${component}Props) {
  const [sortKey, setSortKey] = useState<SortKey>("${columns[0]!.name}");
  const [ascending, setAscending] = useState(true);
  const [query, setQuery] = useState("");
  const onSort = useCallback((key: SortKey) => {
    setAscending((previous) => (key === sortKey ? !previous : true));
    setSortKey(key);
  }, [sortKey]);
  const rows = useMemo(() => {
    const needle = query.trim().toLowerCase();
    const filtered = page.items.filter((item) => needle === "" || JSON.stringify(item).toLowerCase().includes(needle));
    return [...filtered].sort((left, right) => {
      const a = left[sortKey];
      const b = right[sortKey];
      const order = a < b ? -1 : a > b ? 1 : 0;
      return ascending ? order : -order;
    });
  }, [page.items, query, sortKey, ascending]);
  useEffect(() => {
    if (selectedId && !rows.some((row) => row.id === selectedId)) setQuery("");
  }, [rows, selectedId]);
  return (
    <section className="${module.kind} ${e.toLowerCase()}-${module.kind}" aria-busy={loading}>
      <header className="toolbar">
        <h2>${entity.label[0]!.toUpperCase()}${entity.label.slice(1)}s ({page.total})</h2>
        <input type="search" value={query} placeholder="Search ${entity.label}s" onChange={(event) => setQuery(event.target.value)} />
      </header>
      <table>
        <thead>
          <tr>
${headerCells}
            <th scope="col">status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} className={row.id === selectedId ? "selected" : undefined} onClick={() => onSelect?.(row)}>
${bodyCells}
              <td>
                <select value={row.status} onChange={(event) => void onStatusChange?.(row.id, event.target.value as ${e}Status)}>
${entity.statuses.map((status) => `                  <option value="${status}">${status.replace(/_/g, " ")}</option>`).join("\n")}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {footer}
    </section>
  );
}
`;
}

const helperBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const noun = random.pick(nouns);
  const numeric = entity.fields.filter((field) => field.type === "number");
  const metric = numeric.length > 0 ? random.pick(numeric).name : null;
  const cases = entity.statuses
    .map(
      (status) => `      case "${status}":\n        summary.${camel(status)} += 1;\n        break;`,
    )
    .join("\n");
  const counters = entity.statuses.map((status) => `  ${camel(status)}: number;`).join("\n");
  const initial = entity.statuses.map((status) => `${camel(status)}: 0`).join(", ");
  return `
export interface ${e}${noun}${i} {
${counters}
  total: number;
  ${metric ? `${metric}Sum: number;` : "newest: Date | null;"}
}

/** Counts ${entity.label}s per status${metric ? ` and sums ${metric}` : ""} for the ${noun.toLowerCase()} view (variant ${i}). */
export function build${e}${noun}${i}(items: readonly ${e}[]): ${e}${noun}${i} {
  const summary: ${e}${noun}${i} = { ${initial}, total: 0, ${metric ? `${metric}Sum: 0` : "newest: null"} };
  for (const item of items) {
    summary.total += 1;
    ${metric ? `summary.${metric}Sum += item.${metric};` : "if (!summary.newest || item.updatedAt > summary.newest) summary.newest = item.updatedAt;"}
    switch (item.status) {
${cases}
    }
  }
  return summary;
}
`;
};

const fixtureBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const count = random.int(3, 7);
  const rows = Array.from({ length: count }, (_, row) => {
    const fields = entity.fields
      .map((field) => `    ${field.name}: ${sampleValue(field, random, entity)},`)
      .join("\n");
    return `  {\n    id: "${e.toLowerCase()}-${i}-${row}-${random.int(1000, 9999)}",\n    status: "${random.pick(entity.statuses)}",\n${fields}\n    updatedAt: ${sampleValue({ name: "updatedAt", type: "Date" }, random, entity)},\n  },`;
  });
  return `
/** Fixture set ${i}: ${count} ${entity.label}s as the ${random.pick(cities)} site reported them. */
export const ${camel(e)}Fixtures${i}: ${e}[] = [
${rows.join("\n")}
];
`;
};

const subComponentBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const noun = random.pick(nouns);
  const shown = random.sample(entity.fields, 3);
  const items = shown
    .map(
      (field) =>
        `          <dd data-field="${field.name}">{${formatExpression(field, "item")}}</dd>`,
    )
    .join("\n");
  return `
export interface ${e}${noun}${i}Props {
  items: readonly ${e}[];
  title?: string;
  onPick?: (item: ${e}) => void;
}

export function ${e}${noun}${i}({ items, title = "${entity.label} ${noun.toLowerCase()}", onPick }: ${e}${noun}${i}Props) {
  const [expanded, setExpanded] = useState(${random.chance(0.5)});
  const visible = useMemo(() => (expanded ? items : items.slice(0, ${random.int(3, 12)})), [items, expanded]);
  if (items.length === 0) {
    return <p className="empty">No ${entity.label}s yet.</p>;
  }
  return (
    <aside className="${e.toLowerCase()}-${noun.toLowerCase()}">
      <h3>{title}</h3>
      <dl>
        {visible.map((item) => (
          <div key={item.id} role="button" tabIndex={0} onClick={() => onPick?.(item)}>
            <dt>{item.id}</dt>
${items}
          </div>
        ))}
      </dl>
      <button type="button" onClick={() => setExpanded((value) => !value)}>
        {expanded ? "Show less" : \`Show all \${items.length}\`}
      </button>
    </aside>
  );
}
`;
};

const hookBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const verb = random.pick(verbs);
  const field = random.pick(entity.fields);
  return `
export interface Use${e}${verb}${i}Options {
  endpoint?: string;
  pollMs?: number;
  ${field.name}?: ${tsType(field, entity)};
}

/** ${verb}s ${entity.label}s from the API and keeps them fresh (poll every pollMs). */
export function use${e}${verb}${i}({ endpoint = "/api/${entity.label.replace(/ /g, "-")}s", pollMs = ${random.int(5, 120) * 1000} }: Use${e}${verb}${i}Options = {}) {
  const [items, setItems] = useState<${e}[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [revision, setRevision] = useState(0);
  const refresh = useCallback(() => setRevision((value) => value + 1), []);
  useEffect(() => {
    const controller = new AbortController();
    fetch(\`\${endpoint}?page=${random.int(1, 9)}&revision=\${revision}\`, { signal: controller.signal })
      .then((response) => response.json() as Promise<${e}Page>)
      .then((page) => setItems(page.items))
      .catch((reason: unknown) => {
        if (!controller.signal.aborted) setError(reason instanceof Error ? reason : new Error(String(reason)));
      });
    const timer = setInterval(refresh, pollMs);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [endpoint, pollMs, revision, refresh]);
  const by${cap(field.name)} = useMemo(() => {
    const groups = new Map<string, ${e}[]>();
    for (const item of items) {
      const key = String(item.${field.name});
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    return groups;
  }, [items]);
  return { items, error, refresh, by${cap(field.name)} };
}
`;
};

const serviceBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const resource = `${entity.label.replace(/ /g, "-")}s`;
  const field = random.pick(entity.fields);
  return `
/** HTTP client for ${entity.label}s (API revision ${i}); retries idempotent reads ${random.int(1, 4)} times. */
export class ${e}Client${i} {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async list(cursor: string | null = null, limit = ${random.pick([25, 50, 100, 200])}): Promise<${e}Page> {
    const url = new URL("/v${random.int(1, 3)}/${resource}", this.baseUrl);
    url.searchParams.set("limit", String(limit));
    if (cursor) url.searchParams.set("cursor", cursor);
    const response = await this.fetchImpl(url);
    if (!response.ok) throw new Error(\`listing ${resource} failed: \${response.status}\`);
    return (await response.json()) as ${e}Page;
  }

  async get(id: string): Promise<${e} | null> {
    const response = await this.fetchImpl(new URL(\`/v1/${resource}/\${encodeURIComponent(id)}\`, this.baseUrl));
    if (response.status === 404) return null;
    return (await response.json()) as ${e};
  }

  async setStatus(id: string, status: ${e}Status): Promise<void> {
    await this.fetchImpl(new URL(\`/v1/${resource}/\${id}/status\`, this.baseUrl), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status }),
    });
  }

  async findBy${cap(field.name)}(value: ${tsType(field, entity)}): Promise<${e}[]> {
    const page = await this.list(null, 500);
    return page.items.filter((item) => item.${field.name} === value);
  }
}
`;
};

const validationBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const checks = entity.fields
    .map((field) => {
      switch (field.type) {
        case "number":
          return `  if (input.${field.name} !== undefined && (input.${field.name} < 0 || input.${field.name} > ${random.int(100, 100000)})) {\n    issues.push({ field: "${field.name}", message: "${field.name} is out of range" });\n  }`;
        case "string":
          return `  if (input.${field.name} !== undefined && input.${field.name}.trim().length < ${random.int(1, 4)}) {\n    issues.push({ field: "${field.name}", message: "${field.name} is too short" });\n  }`;
        case "Date":
          return `  if (input.${field.name} !== undefined && Number.isNaN(input.${field.name}.getTime())) {\n    issues.push({ field: "${field.name}", message: "${field.name} is not a valid date" });\n  }`;
        default:
          return `  if (input.${field.name} === undefined) {\n    issues.push({ field: "${field.name}", message: "${field.name} is required" });\n  }`;
      }
    })
    .join("\n");
  return `
export interface ${e}ValidationIssue${i} {
  field: keyof ${e};
  message: string;
}

/** Rule set ${i} applied before a ${entity.label} is saved. */
export function validate${e}${i}(input: Partial<${e}>): ${e}ValidationIssue${i}[] {
  const issues: ${e}ValidationIssue${i}[] = [];
${checks}
  if (input.status !== undefined && !${e.toUpperCase()}_STATUSES.includes(input.status)) {
    issues.push({ field: "status", message: \`unknown status \${input.status}\` });
  }
  return issues;
}
`;
};

const reducerBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const status = random.pick(entity.statuses);
  return `
export interface ${e}State${i} {
  byId: Record<string, ${e}>;
  order: string[];
  loading: boolean;
  lastError: string | null;
}

export type ${e}Action${i} =
  | { type: "loaded"; items: ${e}[] }
  | { type: "upserted"; item: ${e} }
  | { type: "removed"; id: string }
  | { type: "failed"; message: string };

export const initial${e}State${i}: ${e}State${i} = { byId: {}, order: [], loading: ${random.chance(0.5)}, lastError: null };

export function reduce${e}s${i}(state: ${e}State${i}, action: ${e}Action${i}): ${e}State${i} {
  switch (action.type) {
    case "loaded":
      return {
        byId: Object.fromEntries(action.items.map((item) => [item.id, item])),
        order: action.items.map((item) => item.id),
        loading: false,
        lastError: null,
      };
    case "upserted": {
      const known = action.item.id in state.byId;
      return {
        ...state,
        byId: { ...state.byId, [action.item.id]: action.item },
        order: known ? state.order : [...state.order, action.item.id],
      };
    }
    case "removed": {
      const { [action.id]: _removed, ...rest } = state.byId;
      return { ...state, byId: rest, order: state.order.filter((id) => id !== action.id) };
    }
    case "failed":
      return { ...state, loading: false, lastError: action.message };
  }
}

export const select${cap(camel(status))}${e}s${i} = (state: ${e}State${i}): ${e}[] =>
  state.order.map((id) => state.byId[id]).filter((item): item is ${e} => item?.status === "${status}");
`;
};

const typeVariantBlock: BlockRenderer = ({ entity, random }, i) => {
  const e = entity.name;
  const picked = random.sample(entity.fields, random.int(2, entity.fields.length));
  return `
/** ${random.pick(nouns)} projection ${i} of a ${entity.label}, as the ${random.pick(cities)} integration sends it. */
export type ${e}Projection${i} = Pick<${e}, "id" | "status" | ${picked.map((field) => `"${field.name}"`).join(" | ")}> & {
  source: "${random.pick(words)}";
  receivedAt: Date;
};

export function to${e}Projection${i}(item: ${e}, receivedAt = new Date()): ${e}Projection${i} {
  return {
    id: item.id,
    status: item.status,
${picked.map((field) => `    ${field.name}: item.${field.name},`).join("\n")}
    source: "${random.pick(words)}",
    receivedAt,
  } as ${e}Projection${i};
}
`;
};

function camel(text: string): string {
  return text
    .replace(/[_\s-]+(\w)/g, (_, letter: string) => letter.toUpperCase())
    .replace(/^\w/, (letter) => letter.toLowerCase());
}

function cap(text: string): string {
  return text[0]!.toUpperCase() + text.slice(1);
}

const blockMix: Record<ModuleSpec["kind"], BlockRenderer[]> = {
  table: [subComponentBlock, helperBlock, fixtureBlock, hookBlock],
  form: [subComponentBlock, validationBlock, hookBlock, fixtureBlock],
  detailPanel: [subComponentBlock, helperBlock, typeVariantBlock],
  dashboard: [subComponentBlock, helperBlock, hookBlock, fixtureBlock],
  hook: [hookBlock, helperBlock],
  service: [serviceBlock, helperBlock, fixtureBlock],
  types: [typeVariantBlock, fixtureBlock],
  store: [reducerBlock, helperBlock],
  validation: [validationBlock, helperBlock],
};
