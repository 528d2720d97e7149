import { rowCorruptError } from "../errors.js";
import type { DecodedNode } from "./tree-node.js";

/**
 * The value-reference format, read here and nowhere else (a test greps `src/` for that): how a
 * checkpoint row, a write row, a retained history row or a keyed tree entry points at one value,
 * and the per-channel JSON of a checkpoint row. Every other module asks the functions below
 * (what a ref is, which items it starts at) instead of looking at its keys.
 *
 * Small JSON, never the payload itself unless the payload is tiny:
 * - `{ t, s }` / `{ t, b }`: tiny value inline (UTF-8 text / base64), no extra row;
 * - `{ t, i }`: the whole serialized value is one content-addressed item;
 * - `{ t, u }`: the value is a JSON string stored as one item of its plain UTF-8 text (see
 *   tree-node.ts on text items);
 * - `{ a, n }`: an array of `n` elements stored as a tree whose root node is item `a`;
 * - `{ o, n }` / `{ m, n }`: a plain object / a Map of `n` entries stored as a keyed tree.
 */
export type ValueRef =
  | { t: string; s: string }
  | { t: string; b: string }
  | { t: string; i: string }
  | { t: string; u: string }
  | { a: string; n: number }
  | { o: string; n: number }
  | { m: string; n: number };

/** A ref as what it points at, with named fields. */
export type ValueRefShape =
  | { kind: "inline"; type: string; bytes: Uint8Array }
  | { kind: "item"; type: string; itemId: string; text: boolean }
  | { kind: "array"; rootId: string; length: number }
  | { kind: "keyed"; container: "object" | "Map"; rootId: string; size: number };

export function shapeOf(ref: ValueRef): ValueRefShape {
  if ("a" in ref) return { kind: "array", rootId: ref.a, length: ref.n };
  if ("o" in ref) return { kind: "keyed", container: "object", rootId: ref.o, size: ref.n };
  if ("m" in ref) return { kind: "keyed", container: "Map", rootId: ref.m, size: ref.n };
  if ("i" in ref) return { kind: "item", type: ref.t, itemId: ref.i, text: false };
  if ("u" in ref) return { kind: "item", type: ref.t, itemId: ref.u, text: true };
  if ("s" in ref) return { kind: "inline", type: ref.t, bytes: Buffer.from(ref.s, "utf8") };
  return { kind: "inline", type: ref.t, bytes: Buffer.from(ref.b, "base64") };
}

/** The ref for a value kept inline: UTF-8 text when it round-trips, base64 otherwise. */
export function inlineRef(type: string, bytes: Uint8Array, asText: boolean): ValueRef {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return asText
    ? { t: type, s: buffer.toString("utf8") }
    : { t: type, b: buffer.toString("base64") };
}

/** The ref for a value stored as one item: its serialized bytes, or (`text`) a JSON string's text. */
export function itemRef(type: string, itemId: string, text = false): ValueRef {
  return text ? { t: type, u: itemId } : { t: type, i: itemId };
}

export function treeRef(
  container: "array" | "object" | "Map",
  rootId: string,
  count: number,
): ValueRef {
  if (container === "array") return { a: rootId, n: count };
  return container === "object" ? { o: rootId, n: count } : { m: rootId, n: count };
}

/** Where the pieces a ref points at start: tree nodes (array and keyed roots) and value items. */
export function refRoots(ref: ValueRef): { nodeIds: string[]; itemIds: string[] } {
  const shape = shapeOf(ref);
  if (shape.kind === "array" || shape.kind === "keyed")
    return { nodeIds: [shape.rootId], itemIds: [] };
  if (shape.kind === "item") return { nodeIds: [], itemIds: [shape.itemId] };
  return { nodeIds: [], itemIds: [] };
}

/** Root item ids a ref points at (nodes and values alike): where a liveness walk starts. */
export function rootItemIds(ref: ValueRef): string[] {
  const { nodeIds, itemIds } = refRoots(ref);
  return [...nodeIds, ...itemIds];
}

/**
 * What a decoded tree node points at: an inner node's children and a nested tree's roots are
 * nodes; a leaf's item entries are values. What every walk follows (liveness, accounting).
 */
export function nodeChildren(node: DecodedNode): { nodeIds: string[]; itemIds: string[] } {
  if (node.kind === "inner") return { nodeIds: node.childIds, itemIds: [] };
  const nodeIds: string[] = [];
  const itemIds: string[] = [];
  for (const entry of node.entries) {
    if (entry.kind === "item") itemIds.push(entry.itemId);
    else if (entry.kind === "tree") nodeIds.push(...entry.rootIds);
  }
  return { nodeIds, itemIds };
}

/** Bytes a ref keeps inside the row itself (0 for a ref to items). */
export function inlineBytesOf(ref: ValueRef): number {
  return "s" in ref ? ref.s.length : "b" in ref ? ref.b.length : 0;
}

export function parseValueRef(json: string, where: string): ValueRef {
  try {
    return JSON.parse(json) as ValueRef;
  } catch (error) {
    throw rowCorruptError(where, error);
  }
}

/** Root node id of a nested tree ref (what a keyed tree entry points at). */
export function nestedTreeRootIds(refJson: string): string[] {
  const shape = shapeOf(JSON.parse(refJson) as ValueRef);
  if (shape.kind === "array" || shape.kind === "keyed") return [shape.rootId];
  throw new Error("not a tree ref");
}

export type ChannelVersion = string | number;

/** What a checkpoint row stores per channel: the channel's version and where its value is. */
export type ChannelRefs = Record<string, { v: ChannelVersion; r: ValueRef }>;

/** A checkpoint row's channel refs column; `where` names the row in the coded error. */
export function parseChannelRefs(json: string, where: string): ChannelRefs {
  try {
    return JSON.parse(json) as ChannelRefs;
  } catch (error) {
    throw rowCorruptError(where, error);
  }
}

export function channelRefsJson(refs: ChannelRefs): string {
  return JSON.stringify(refs);
}
