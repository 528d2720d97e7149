/**
 * Finds the first part of a step input that JSON cannot carry, or undefined when it is all JSON.
 *
 * zod's `z.json()` accepts cyclic objects (it checks shapes, not identity), and a cycle would
 * then either hang a naive walker or be cloned into the worker as something the step's author
 * never meant to send. The walk is iterative so a deeply nested input cannot overflow the stack.
 */
export function findNonJsonPart(value: unknown, rootPath = "input"): string | undefined {
  type Frame = { node: object; path: string; entries: [string, unknown][]; next: number };
  const onPath = new Set<object>();
  const stack: Frame[] = [];

  const visit = (node: unknown, path: string): string | undefined => {
    if (node === null || typeof node === "string" || typeof node === "boolean") return undefined;
    if (typeof node === "number") {
      return Number.isFinite(node) ? undefined : `${path} is ${node}, which JSON cannot hold`;
    }
    if (typeof node !== "object") return `${path} is ${describe(node)}, which JSON cannot hold`;
    if (onPath.has(node)) return `${path} refers back to one of its ancestors (a cycle)`;
    if (!Array.isArray(node) && !isPlainObject(node)) {
      return `${path} is a ${node.constructor?.name ?? "non-plain object"}, not a plain object or array`;
    }
    onPath.add(node);
    const entries = Array.isArray(node)
      ? node.map((item, index) => [String(index), item] as [string, unknown])
      : Object.entries(node);
    stack.push({ node, path, entries, next: 0 });
    return undefined;
  };

  const rootProblem = visit(value, rootPath);
  if (rootProblem) return rootProblem;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.entries.length) {
      onPath.delete(frame.node);
      stack.pop();
      continue;
    }
    const [key, child] = frame.entries[frame.next++]!;
    const childPath = Array.isArray(frame.node) ? `${frame.path}[${key}]` : `${frame.path}.${key}`;
    const problem = visit(child, childPath);
    if (problem) return problem;
  }
  return undefined;
}

function isPlainObject(node: object): boolean {
  const prototype = Object.getPrototypeOf(node);
  return prototype === Object.prototype || prototype === null;
}

function describe(node: unknown): string {
  if (node === undefined) return "undefined";
  if (typeof node === "function") return "a function";
  return `a ${typeof node}`;
}
