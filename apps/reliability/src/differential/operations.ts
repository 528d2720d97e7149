import fc from "fast-check";
import { type GraphKind, graphKinds, nodesOf } from "./graphs.js";

/** A generated value the graphs turn into their input (see inputFor). */
export interface Seed {
  text: string;
  entries: Record<string, string>;
  number: number;
}

/**
 * One step of a sequence. `at` picks a checkpoint of the thread's root namespace by position in
 * creation order among those still stored, the same checkpoint on every saver.
 */
export type Operation =
  | { kind: "invoke"; input: Seed | null }
  | { kind: "stream"; input: Seed }
  | { kind: "resume"; answer: string }
  | { kind: "updateState"; at: number | null; asNode: string | null; values: Seed | null }
  | { kind: "fork"; at: number; input: Seed | null }
  | {
      kind: "history";
      limit: number | null;
      beforeAt: number | null;
      filter: { source: string } | { step: number } | null;
    }
  | { kind: "copyThread" }
  | { kind: "prune"; keepLast: number }
  | { kind: "deleteThread" }
  | { kind: "gc" };

export interface Sequence {
  graph: GraphKind;
  operations: Operation[];
}

const shortText = fc.string({ maxLength: 12 });
/** Past the serializer's string threshold (1 KiB here) and the codec's blob threshold (2 KiB). */
const mediumText = fc
  .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 100, max: 3_000 }))
  .map(([unit, times]) => `${unit.repeat(times)}#${times}`);
const entryText = fc.oneof(
  { weight: 4, arbitrary: shortText },
  { weight: 1, arbitrary: mediumText },
);

/** Short text, or now and then text past the serializer's and the codec's blob thresholds. */
const text = fc.oneof(
  { weight: 6, arbitrary: shortText },
  { weight: 3, arbitrary: mediumText },
  {
    weight: 1,
    // Past the serializer's content-defined chunking threshold (64 KiB).
    arbitrary: fc.integer({ min: 70_000, max: 120_000 }).map((size) => {
      let body = "";
      for (let line = 0; body.length < size; line += 1) body += `line ${line} of ${size}\n`;
      return body;
    }),
  },
);

const seed: fc.Arbitrary<Seed> = fc.record({
  text,
  // Up to 12 keys: 8 or more make the lean savers store the object as a keyed tree.
  entries: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), entryText, { maxKeys: 12 }),
  number: fc.integer({ min: -5, max: 5 }),
});

const position = fc.nat({ max: 40 });

function operation(graph: GraphKind): fc.Arbitrary<Operation> {
  const asNode = fc.constantFrom<string | null>(null, "__copy__", "__start__", ...nodesOf[graph]);
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({ kind: fc.constant("invoke" as const), input: fc.option(seed) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("stream" as const), input: seed }) },
    {
      weight: graph === "interrupt" ? 4 : 0,
      arbitrary: fc.record({
        kind: fc.constant("resume" as const),
        answer: fc.string({ maxLength: 8 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("updateState" as const),
        at: fc.option(position),
        asNode,
        values: fc.option(seed),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("fork" as const),
        at: position,
        input: fc.option(seed),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("history" as const),
        limit: fc.option(fc.integer({ min: 1, max: 6 })),
        beforeAt: fc.option(position),
        filter: fc.option(
          fc.oneof(
            fc.record({ source: fc.constantFrom("input", "loop", "update", "fork") }),
            fc.record({ step: fc.integer({ min: -1, max: 6 }) }),
          ),
        ),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "copyThread" as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("prune" as const),
        keepLast: fc.integer({ min: 1, max: 6 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "deleteThread" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "gc" as const }) },
  );
}

/** A graph and 1–10 operations on one thread, starting with an invoke so there is a history. */
export const sequenceArbitrary: fc.Arbitrary<Sequence> = fc
  .constantFrom(...graphKinds)
  .chain((graph) =>
    fc.record({
      graph: fc.constant(graph),
      operations: fc
        .tuple(seed, fc.array(operation(graph), { maxLength: 9 }))
        .map(([first, rest]): Operation[] => [{ kind: "invoke", input: first }, ...rest]),
    }),
  );

/** One line per operation, with long texts shortened, for a shrunk counterexample a person reads. */
export function describeSequence(sequence: Sequence): string {
  const shorten = (_key: string, value: unknown) =>
    typeof value === "string" && value.length > 40
      ? `${JSON.stringify(value.slice(0, 16)).slice(1, -1)}… (${value.length} chars)`
      : value;
  return [
    `graph ${sequence.graph}:`,
    ...sequence.operations.map((op, index) => `  ${index}. ${JSON.stringify(op, shorten)}`),
  ].join("\n");
}
