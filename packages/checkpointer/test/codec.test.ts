import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { Send } from "@langchain/langgraph";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import {
  createMemoryBlobStore,
  LeangraphError,
  RedactingSerializer,
  SerdeErrorCode,
} from "@leangraph/serde";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { splitJsonArray } from "../src/codec/json-array-split.js";
import {
  decodeNode,
  encodeEntry,
  encodeInner,
  encodeLeaf,
  sha256Hex,
  tailSegments,
} from "../src/codec/tree-node.js";
import { defaultValueCodecOptions, type NewItem, ValueCodec } from "../src/codec/value-codec.js";
import { refRoots } from "../src/codec/value-ref.js";

function memoryReader(items: Map<string, NewItem>) {
  return {
    async readItems(ids: readonly string[]) {
      return new Map(ids.map((id) => [id, items.get(id)!.bytes] as const));
    },
  };
}

/** A reader that reports each body as it "arrives", as the saver's item reader does. */
function arrivingReader(items: Map<string, NewItem>) {
  return {
    async readItems(ids: readonly string[], onItem?: (id: string, bytes: Uint8Array) => void) {
      const read = new Map<string, Uint8Array>();
      for (const id of ids) {
        read.set(id, items.get(id)!.bytes);
        onItem?.(id, items.get(id)!.bytes);
      }
      return read;
    },
  };
}

/** Small thresholds so short generated arrays exercise inline entries, items and inner nodes. */
const tinyTree = {
  ...defaultValueCodecOptions,
  inlineElementMaxBytes: 16,
  inlineValueMaxBytes: 8,
  tree: { maxLeafEntries: 3, maxLeafBytes: 64, maxInnerChildren: 2 },
};

describe("splitJsonArray", () => {
  it("cuts an array's JSON into exactly the JSON of each element", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), (array) => {
        const bytes = Buffer.from(JSON.stringify(array));
        const parts = splitJsonArray(bytes, array.length);
        expect(parts?.map((part) => Buffer.from(part).toString())).toEqual(
          array.map((value) => JSON.stringify(value)),
        );
      }),
    );
  });

  it("refuses what is not an array of the expected length", () => {
    expect(splitJsonArray(Buffer.from('"[1,2]"'), 2)).toBeUndefined();
    expect(splitJsonArray(Buffer.from("[1,2]"), 3)).toBeUndefined();
  });
});

describe("ValueCodec", () => {
  for (const [name, serde] of [
    ["JsonPlusSerializer", new JsonPlusSerializer()],
    [
      "RedactingSerializer",
      new RedactingSerializer({ blobStore: createMemoryBlobStore(), maxStringBytes: 64 }),
    ],
  ] as const) {
    it(`round-trips any JSON value exactly as the serializer alone does (${name})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (value) => {
          const codec = new ValueCodec(serde, tinyTree);
          const encoded = await codec.encode(value, "channel");
          const items = new Map(encoded.items.map((item) => [item.id, item]));
          const [type, payload] = await serde.dumpsTyped(value);
          expect(await codec.decode(encoded.ref, memoryReader(items))).toEqual(
            await serde.loadsTyped(type, payload),
          );
        }),
        { numRuns: 150 },
      );
    });
  }

  it("round-trips LangChain messages, holes and nested arrays", async () => {
    const serde = new JsonPlusSerializer();
    const codec = new ValueCodec(serde, tinyTree);
    const value = [
      new HumanMessage("hi"),
      undefined,
      [1, [2, "three"]],
      new AIMessage({ content: "x".repeat(40), id: "a" }),
    ];
    const encoded = await codec.encode(value);
    const decoded = (await codec.decode(
      encoded.ref,
      memoryReader(new Map(encoded.items.map((i) => [i.id, i]))),
    )) as unknown[];
    expect(decoded).toEqual([new HumanMessage("hi"), null, [1, [2, "three"]], value[3]]);
  });

  it("appending rewrites only the open tail, never the closed prefix", async () => {
    const codec = new ValueCodec(new JsonPlusSerializer(), tinyTree);
    const array = Array.from(
      { length: 40 },
      (_, index) => `element ${index} ${"y".repeat(index % 7)}`,
    );
    const before = await codec.encode(array, "channel");
    const after = await codec.encode([...array, "appended"], "channel");
    const beforeIds = new Set(before.items.map((item) => item.id));
    const fresh = after.items.filter((item) => !beforeIds.has(item.id));
    // One new element item at most, plus the tail leaf and the path of inner nodes above it.
    expect(fresh.length).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(40)));
    expect(fresh.reduce((sum, item) => sum + item.bytes.byteLength, 0)).toBeLessThan(400);
  });
});

describe("ValueCodec with a RedactingSerializer", () => {
  const blobStore = createMemoryBlobStore();
  const codec = new ValueCodec(new RedactingSerializer({ blobStore }));
  const shared = { x: 1 };
  const cyclic: Record<string, unknown> = { a: [1] };
  (cyclic.a as unknown[]).push(cyclic);

  const storable: [string, unknown][] = [
    ["messages", [new HumanMessage("hi"), new AIMessage({ content: "yo", tool_calls: [] })]],
    ["Set, Map, Send, bytes", [new Set([1]), new Map([["k", { v: 2 }]]), new Uint8Array(3)]],
    ["shared (not circular) references", { left: shared, right: shared }],
    ["an object whose toJSON drops its function", { fn: () => 1, toJSON: () => ({ ok: true }) }],
  ];
  const unstorable: [string, unknown, string][] = [
    ["a function in an array", ["a", "b", () => 1], "v[2] is a function"],
    ["a symbol under an odd key", { "odd key": [Symbol("s")] }, 'v["odd key"][0] is a symbol'],
    ["a bigint in a Map value", new Map([["k", 1n]]), "v[0][1] is a bigint"],
    ["a cycle", cyclic, "v.a[1] is a circular structure (it contains itself)"],
    ["a function inside a Send", new Send("n", { f: () => 1 }), "v.args.f is a function"],
    [
      "a function in a later element",
      ["x".repeat(300_000), { ok: [() => 1] }],
      "v[1].ok[0] is a function",
    ],
  ];

  for (const [name, value] of storable) {
    it(`stores ${name}`, async () => {
      const encoded = await codec.encode(value);
      const items = new Map(encoded.items.map((item) => [item.id, item]));
      expect(await codec.decode(encoded.ref, memoryReader(items))).toEqual(
        await new JsonPlusSerializer().loadsTyped(
          ...(await new JsonPlusSerializer().dumpsTyped(value)),
        ),
      );
    });
  }
  for (const [name, value, expected] of unstorable) {
    it(`refuses ${name}, naming its path, and plans no blob`, async () => {
      const error = await codec.encode(value).then(
        () => undefined,
        (caught: unknown) => caught as { code?: string; describeAt?: (root: string) => string },
      );
      expect(error?.code).toBe("ERR_LG_UNSERIALIZABLE");
      expect(error?.describeAt?.("v")).toBe(expected);
      const written: string[] = [];
      for await (const id of blobStore.list()) written.push(id);
      expect(written).toEqual([]);
    });
  }

  it("records on each item and leaf the blobs its bytes reference, and plans (never writes) them", async () => {
    const files = Array.from({ length: 5 }, (_, index) => `${index}`.repeat(300_000));
    const encoded = await codec.encode(files);
    const named = new Set(encoded.items.flatMap((item) => item.blobRefs));
    // Each string is a chunk list: items name the lists, the lists name their chunks.
    expect(named.size).toBe(5);
    expect(new Set(encoded.toWrite.flatMap((payload) => payload.blobIds))).toEqual(named);
    for (const payload of encoded.toWrite)
      for (const id of payload.blobIds)
        expect(payload.blobChildren.get(id)?.length).toBeGreaterThan(0);
    const written: string[] = [];
    for await (const id of blobStore.list()) written.push(id);
    expect(written).toEqual([]);
  });
});

describe("ValueCodec object and Map trees", () => {
  const codec = new ValueCodec(new JsonPlusSerializer(), tinyTree);
  const read = async (value: unknown) => {
    const encoded = await codec.encode(value);
    const items = new Map(encoded.items.map((item) => [item.id, item]));
    return { encoded, decoded: await codec.decode(encoded.ref, memoryReader(items)) };
  };
  const stock = async (value: unknown) => {
    const serde = new JsonPlusSerializer();
    return serde.loadsTyped(...(await serde.dumpsTyped(value)));
  };

  it("round-trips any JSON object, key order included, as the serializer alone does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 8, maxKeys: 40 }),
        async (object) => {
          const { encoded, decoded } = await read(object);
          expect("o" in encoded.ref).toBe(true);
          const expected = await stock(object);
          expect(decoded).toEqual(expected);
          expect(Object.keys(decoded as object)).toEqual(Object.keys(expected));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("keeps Maps, nested objects and arrays, __proto__ keys, undefined values and messages as stock does", async () => {
    const nested = Object.fromEntries(
      Array.from({ length: 10 }, (_, index) => [`n${index}`, index]),
    );
    const tricky: Record<string, unknown> = {
      messages: [new HumanMessage("hi"), new AIMessage("yo")],
      nested,
      list: Array.from({ length: 30 }, (_, index) => `element ${index}`),
      missing: undefined,
      map: new Map(
        Array.from({ length: 9 }, (_, index) => [index % 2 ? `k${index}` : index, { index }]),
      ),
      "10": "integer-like keys come first",
      set: new Set([1, 2]),
      lcLike: { lc: 1, note: "an object with an lc key is one value" },
    };
    Object.defineProperty(tricky, "__proto__", { value: { own: true }, enumerable: true });
    const { decoded } = await read(tricky);
    const expected = await stock(tricky);
    expect(decoded).toEqual(expected);
    // A `__proto__` key comes back as the stock reviver leaves it (it sets the prototype).
    expect(Object.getPrototypeOf(decoded)).toEqual(Object.getPrototypeOf(expected));
    expect(Object.keys(decoded as object)).toEqual(Object.keys(expected));
    const map = new Map(Array.from({ length: 12 }, (_, index) => [{ id: index }, `v${index}`]));
    expect((await read(map)).decoded).toEqual(map);
  });

  it("changing one key writes that entry's leaf and the path to the root, not the whole object", async () => {
    const keyed = new ValueCodec(new JsonPlusSerializer());
    const files = Object.fromEntries(
      Array.from({ length: 400 }, (_, index) => [`src/file-${index}.ts`, `content ${index}`]),
    );
    const first = await keyed.encode(files, "channel");
    const changed = await keyed.encode({ ...files, "src/file-200.ts": "edited" }, "channel");
    const bytesOf = (items: NewItem[]) =>
      items.reduce((sum, item) => sum + item.bytes.byteLength, 0);
    expect(bytesOf(changed.items)).toBeLessThan(bytesOf(first.items) / 4);
    // A key inserted in the middle also touches only the nodes around it (content boundaries).
    const inserted = await keyed.encode(
      Object.fromEntries([
        ...Object.entries(files).slice(0, 100),
        ["src/new.ts", "new"],
        ...Object.entries(files).slice(100),
      ]),
      "channel",
    );
    expect(bytesOf(inserted.items)).toBeLessThan(bytesOf(first.items) / 4);
  });
});

describe("a value above the stored-once size", () => {
  const text = (seed: string) => `export const ${seed} = ${JSON.stringify(seed.repeat(1000))};\n`;
  const valueItemIds = (items: NewItem[]) =>
    new Set(items.filter((item) => item.kind === "value").map((item) => item.id));

  for (const [name, serde] of [
    ["JsonPlusSerializer", new JsonPlusSerializer()],
    ["RedactingSerializer", new RedactingSerializer({ blobStore: createMemoryBlobStore() })],
  ] as const) {
    it(`is one item shared by the write that carried it and the channel holding it (${name})`, async () => {
      const codec = new ValueCodec(serde);
      const files = Object.fromEntries(
        Array.from({ length: 12 }, (_, index) => [`src/file-${index}.js`, text(`f${index}`)]),
      );
      const write = { "src/file-3.js": files["src/file-3.js"] };
      const channel = await codec.encode(files, "files");
      const carried = await codec.encode(write);
      const shared = valueItemIds(carried.items);
      expect(shared.size).toBe(1);
      for (const id of shared) expect(valueItemIds(channel.items).has(id)).toBe(true);
      // The write's own bytes beside the shared item: one small leaf naming it.
      const ownBytes = carried.items
        .filter((item) => !shared.has(item.id))
        .reduce((sum, item) => sum + item.bytes.byteLength, 0);
      expect(ownBytes).toBeLessThan(128);
      const items = new Map([...channel.items, ...carried.items].map((item) => [item.id, item]));
      expect(await codec.decode(carried.ref, memoryReader(items))).toEqual(write);
      expect(await codec.decode(channel.ref, memoryReader(items))).toEqual(files);
    });
  }

  it("stores a string as its plain UTF-8 text, and text with no UTF-8 form as JSON", async () => {
    const codec = new ValueCodec(new JsonPlusSerializer());
    const code = `const s = "quoted";\n\tconst é = '\\n';\n`.repeat(60);
    const loneSurrogate = `${"x".repeat(2000)}\ud800`;
    for (const value of [code, { "a.js": code }, [code, loneSurrogate], loneSurrogate]) {
      const encoded = await codec.encode(value);
      const items = new Map(encoded.items.map((item) => [item.id, item]));
      expect(await codec.decode(encoded.ref, memoryReader(items))).toEqual(value);
      const bodies = encoded.items
        .filter((item) => item.kind === "value")
        .map((item) => item.bytes);
      if (value !== loneSurrogate) expect(bodies).toContainEqual(Buffer.from(code, "utf8"));
      if (value !== code && typeof value !== "object")
        expect(bodies).toContainEqual(Buffer.from(JSON.stringify(loneSurrogate), "utf8"));
    }
  });

  it("a small object stays one inline value", async () => {
    const codec = new ValueCodec(new JsonPlusSerializer());
    const encoded = await codec.encode({ path: "a.js", bytes: 120 });
    expect("s" in encoded.ref).toBe(true);
    expect(encoded.items).toEqual([]);
  });
});

describe("a serializer type tag too long for a tree entry", () => {
  it("is refused with a code while the put plans, not a bare RangeError", async () => {
    const longTag = "t".repeat(300);
    const stock = new JsonPlusSerializer();
    const serde = {
      dumpsTyped: async (value: unknown): Promise<[string, Uint8Array]> => [
        longTag,
        (await stock.dumpsTyped(value))[1],
      ],
      loadsTyped: (_type: string, bytes: Uint8Array | string) => stock.loadsTyped("json", bytes),
    };
    const codec = new ValueCodec(serde, tinyTree);
    const refusal = await codec
      .encode(
        Array.from({ length: 20 }, (_, index) => `element ${index}`),
        "channel",
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refusal).toBeInstanceOf(LeangraphError);
    expect((refusal as LeangraphError).code).toBe(SerdeErrorCode.unserializable);
  });
});

describe("an array's open tail stored as segments", () => {
  const itemsOf = (encoded: { items: NewItem[] }) =>
    new Map(encoded.items.map((item) => [item.id, item]));
  /** Levels from the root to the leaves: how many sequential reads a decode makes. */
  function depthOf(rootId: string, items: Map<string, NewItem>): number {
    const node = decodeNode(rootId, items.get(rootId)!.bytes);
    return node.kind === "leaf" ? 1 : 1 + depthOf(node.childIds[0]!, items);
  }

  it("splits a tail into power-of-two segments, largest first", () => {
    expect(tailSegments(13)).toEqual([8, 4, 1]);
    expect(tailSegments(16)).toEqual([16]);
    expect(tailSegments(1)).toEqual([1]);
  });

  it("an append writes one segment: about 3 entry writes per element over a leaf's life, not 8.5", async () => {
    const codec = new ValueCodec(new JsonPlusSerializer());
    const element = (index: number) => ({ module: `m${index}`, ok: true, notes: "r".repeat(200) });
    const array = Array.from({ length: 16 }, (_, index) => element(index));
    const all = itemsOf(await codec.encode(array, "channel"));
    let leafBytes = 0;
    for (let index = 16; index < 32; index += 1) {
      array.push(element(index));
      const encoded = await codec.encode(array, "channel");
      for (const item of encoded.items) {
        if (item.kind === "leaf") leafBytes += item.bytes.byteLength;
        all.set(item.id, item);
      }
      // Every build reads back whole, from the rows written so far.
      expect(await codec.decode(encoded.ref, memoryReader(all))).toEqual(array);
    }
    const elementBytes = Buffer.byteLength(JSON.stringify(element(20)));
    // 16 appends to one leaf: segments of 1,2,1,4,1,2,1,8,1,2,1,4,1,2,1 entries and the full
    // leaf of 16 (48 entries); one rewritten tail leaf each time wrote 1+2+…+16 = 136.
    expect(leafBytes).toBeGreaterThan(40 * elementBytes);
    expect(leafBytes).toBeLessThan(56 * elementBytes);
  });

  it("a one-leaf array stays one leaf, and segments never add a level", async () => {
    const codec = new ValueCodec(new JsonPlusSerializer());
    const { maxLeafEntries, maxInnerChildren } = defaultValueCodecOptions.tree;
    for (const length of [1, 5, 15, 16, 17, 31, 250, 255, 256, 257, 300]) {
      const array = Array.from({ length }, (_, index) => index);
      const encoded = await codec.encode(array);
      const items = itemsOf(encoded);
      const { nodeIds } = refRoots(encoded.ref);
      let expected = 1;
      for (
        let width = Math.ceil(length / maxLeafEntries);
        width > 1;
        width = Math.ceil(width / maxInnerChildren)
      )
        expected += 1;
      expect(depthOf(nodeIds[0]!, items), `length ${length}`).toBe(expected);
      expect(await codec.decode(encoded.ref, memoryReader(items))).toEqual(array);
    }
  });

  it("a tree written before segments (one open tail leaf) still reads", async () => {
    const serde = new JsonPlusSerializer();
    const codec = new ValueCodec(serde);
    const entryOf = (value: unknown) =>
      encodeEntry({ kind: "inline", type: "json", bytes: Buffer.from(JSON.stringify(value)) });
    const values = Array.from({ length: 29 }, (_, index) => ({ index }));
    const closed = encodeLeaf(values.slice(0, 16).map(entryOf));
    const tail = encodeLeaf(values.slice(16).map(entryOf));
    const root = encodeInner([sha256Hex(closed), sha256Hex(tail)]);
    const items = new Map<string, NewItem>(
      [closed, tail, root].map((bytes) => [
        sha256Hex(bytes),
        { id: sha256Hex(bytes), kind: "leaf", bytes, inBlobStore: false, blobRefs: [] },
      ]),
    );
    const ref = { a: sha256Hex(root), n: values.length };
    expect(await codec.decode(ref, memoryReader(items))).toEqual(values);
    // The same array encoded now stores its tail as segments of 8, 4 and 1 under another root.
    const now = await codec.encode(values);
    expect(refRoots(now.ref).nodeIds[0]).not.toBe(sha256Hex(root));
    expect(now.items.filter((item) => item.kind === "leaf")).toHaveLength(4);
  });
});

describe("strings read back from their stored text", () => {
  class ShoutingSerializer extends JsonPlusSerializer {
    override async loadsTyped(type: string, data: Uint8Array | string) {
      const value = await super.loadsTyped(type, data);
      return typeof value === "string" ? value.toUpperCase() : value;
    }
  }
  const serdes = [
    ["JsonPlusSerializer", new JsonPlusSerializer()],
    [
      "RedactingSerializer",
      new RedactingSerializer({ blobStore: createMemoryBlobStore(), maxStringBytes: 64 }),
    ],
    ["a subclass that changes strings on load", new ShoutingSerializer()],
  ] as const;
  const edgeStrings = [
    "\uFEFFa byte-order mark first, then enough text to be an item",
    "\uE000lg:esc:a user string that looks like one of ours, long enough",
    'quotes " backslashes \\ and \n newlines, long enough to be an item',
    "plain ascii text long enough to be stored as an item of its own",
  ];

  for (const [name, serde] of serdes) {
    it(`loads what the serializer alone loads, arrays, records and single values (${name})`, async () => {
      const codec = new ValueCodec(serde, tinyTree);
      const check = async (value: unknown) => {
        const encoded = await codec.encode(value, "channel");
        const items = new Map(encoded.items.map((item) => [item.id, item]));
        const [type, payload] = await serde.dumpsTyped(value);
        const expected = await serde.loadsTyped(type, payload);
        expect(await codec.decode(encoded.ref, memoryReader(items))).toEqual(expected);
        expect(await codec.decode(encoded.ref, arrivingReader(items))).toEqual(expected);
      };
      await check(edgeStrings);
      await check(Object.fromEntries(edgeStrings.map((text, index) => [`k${index}`, text])));
      for (const text of edgeStrings) await check(text);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.string({ unit: "binary", minLength: 8 })),
          fc.dictionary(fc.string(), fc.string({ unit: "binary", minLength: 8 })),
          async (array, record) => {
            await check(array);
            await check(record);
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  it("hands a long string over without parsing JSON when the serializer loads it as itself", async () => {
    const texts = Array.from({ length: 8 }, (_, index) => `${index} ${"x".repeat(3000)}`);
    for (const [name, serde] of serdes) {
      const codec = new ValueCodec(serde);
      const encoded = await codec.encode(texts, "channel");
      const items = new Map(encoded.items.map((item) => [item.id, item]));
      const [type, payload] = await serde.dumpsTyped(texts);
      const expected = await serde.loadsTyped(type, payload);
      const parse = vi.spyOn(JSON, "parse");
      try {
        const decoded = await codec.decode(encoded.ref, arrivingReader(items));
        const longParses = parse.mock.calls.filter(([text]) => String(text).length > 3000).length;
        expect(decoded).toEqual(expected);
        if (name === "a subclass that changes strings on load")
          expect(longParses).toBeGreaterThan(0);
        else expect(longParses).toBe(0);
      } finally {
        parse.mockRestore();
      }
    }
  });
});
