import { type BlobStore, LeangraphError, SerdeErrorCode } from "@leangraph/serde";
import { blobIdOfRef, isContainerRef, serdeRefsIn, serdeRefsInBlob } from "../codec/serde-refs.js";
import { childItemIds, decodeNode, sha256Hex } from "../codec/tree-node.js";
import type { ValueRef } from "../codec/value-codec.js";
import type { RowStore } from "../core/row-store.js";

/**
 * A piece of storage: a tree node (`n:`), a value item (`v:`) or a serializer blob (`s:` + the
 * serializer's `<kind>:<id>` ref). The prefix says how to read it, because an item row does not
 * say what it is.
 */
export type PieceKey = string;

export interface Piece {
  bytes: number;
  /** Held by the blob store (rather than in an item row's body). */
  blobId: string | undefined;
  next: PieceKey[];
  /** Referenced but not stored (no item row, or no blob). */
  missing: boolean;
  /**
   * Stored, but wrong: an item body that does not hash to its id, a tree node that cannot be
   * decoded, or a blob found corrupt while scanning it for references.
   */
  damaged: boolean;
}

export function pieceIdOf(key: PieceKey): string {
  return key.startsWith("s:") ? blobIdOfRef(key.slice(2)) : key.slice(2);
}

export function pieceKindOf(key: PieceKey): "tree node" | "item" | "serializer blob" {
  return key.startsWith("n:") ? "tree node" : key.startsWith("v:") ? "item" : "serializer blob";
}

function serdeKeys(refs: readonly string[]): PieceKey[] {
  return refs.map((ref) => `s:${ref}`);
}

/** Pieces a value ref points at; inline refs carry only the serializer's references. */
export function rootKeys(ref: ValueRef): PieceKey[] {
  if ("a" in ref) return [`n:${ref.a}`];
  if ("i" in ref) return [`v:${ref.i}`];
  if ("s" in ref) return serdeKeys(serdeRefsIn(ref.s));
  return serdeKeys(serdeRefsIn(Buffer.from(ref.b, "base64")));
}

const absent: Piece = { bytes: 0, blobId: undefined, next: [], missing: true, damaged: false };

/**
 * The store's pieces as a graph, read once and remembered, so threads and channels that share
 * content cost one read. Follows references the way mark-and-sweep does: tree nodes down to their
 * items, serializer references inside item bodies, leaves and container blobs. Database bodies
 * are checked against their sha256 id as they are read (they are small); blob bodies are hashed
 * by the blob store when scanned.
 */
export class PieceGraph {
  readonly #pieces = new Map<PieceKey, Piece>();

  constructor(
    private readonly rows: RowStore,
    private readonly blobStore: BlobStore,
  ) {}

  known(key: PieceKey): Piece {
    return this.#pieces.get(key)!;
  }

  /**
   * Adds to `seen` every piece reachable from `roots` that it lacks; sums what was added.
   * `onNew` sees each added piece, once.
   */
  async reach(
    roots: readonly PieceKey[],
    seen: Set<PieceKey>,
    onNew?: (key: PieceKey, piece: Piece) => void,
  ): Promise<{ bytes: number; pieces: number }> {
    let bytes = 0;
    let pieces = 0;
    let frontier = roots.filter((key) => !seen.has(key));
    while (frontier.length > 0) {
      await this.#load(frontier);
      const next: PieceKey[] = [];
      for (const key of frontier) {
        if (seen.has(key)) continue;
        seen.add(key);
        const piece = this.#pieces.get(key)!;
        onNew?.(key, piece);
        bytes += piece.bytes;
        pieces += 1;
        for (const child of piece.next) if (!seen.has(child)) next.push(child);
      }
      frontier = next;
    }
    return { bytes, pieces };
  }

  async #load(keys: readonly PieceKey[]): Promise<void> {
    const unknown = [...new Set(keys.filter((key) => !this.#pieces.has(key)))];
    const itemIds = unknown.filter((key) => !key.startsWith("s:")).map((key) => key.slice(2));
    const bodies = itemIds.length > 0 ? await this.rows.itemBodies(itemIds) : new Map();
    for (const key of unknown) {
      this.#pieces.set(key, await this.#read(key, bodies));
    }
  }

  async #read(key: PieceKey, bodies: Map<string, Uint8Array | null>): Promise<Piece> {
    if (key.startsWith("s:")) {
      const ref = key.slice(2);
      return this.#blobPiece(blobIdOfRef(ref), isContainerRef(ref));
    }
    const id = key.slice(2);
    const body = bodies.get(id);
    if (body === undefined) return absent;
    if (body === null) {
      // A value item in the blob store may itself hold serializer references (an element with a
      // huge string inside it): scan it, streaming, as mark-and-sweep relies on item rows for.
      return this.#blobPiece(id, true);
    }
    const damagedBody = {
      bytes: body.byteLength,
      blobId: undefined,
      next: [],
      missing: false,
      damaged: true,
    };
    if (sha256Hex(body) !== id) return damagedBody;
    if (key.startsWith("v:")) {
      return {
        bytes: body.byteLength,
        blobId: undefined,
        next: serdeKeys(serdeRefsIn(body)),
        missing: false,
        damaged: false,
      };
    }
    // Tree nodes always live in the database. Leaves hold small elements inline, and with them
    // any serializer references those elements carry.
    let node: ReturnType<typeof decodeNode>;
    try {
      node = decodeNode(id, body);
    } catch (error) {
      if (error instanceof LeangraphError) return damagedBody;
      throw error;
    }
    const children = childItemIds(node).map(
      (child): PieceKey => (node.kind === "inner" ? `n:${child}` : `v:${child}`),
    );
    const refs = node.kind === "leaf" ? serdeKeys(serdeRefsIn(body)) : [];
    return {
      bytes: body.byteLength,
      blobId: undefined,
      next: [...children, ...refs],
      missing: false,
      damaged: false,
    };
  }

  async #blobPiece(blobId: string, mayHoldRefs: boolean): Promise<Piece> {
    const stat = await this.blobStore.stat(blobId);
    if (stat === undefined) return { ...absent, blobId };
    let next: PieceKey[] = [];
    if (mayHoldRefs) {
      try {
        next = serdeKeys(await serdeRefsInBlob(this.blobStore, blobId));
      } catch (error) {
        // Vanished between stat and read, or damaged: an accounting still has an answer (the
        // bytes are there, or not); the caller decides what to report.
        if (error instanceof LeangraphError && error.code === SerdeErrorCode.blobMissing) {
          return { ...absent, blobId };
        }
        if (error instanceof LeangraphError && error.code === SerdeErrorCode.blobCorrupt) {
          return { bytes: stat.bytes, blobId, next: [], missing: false, damaged: true };
        }
        throw error;
      }
    }
    return { bytes: stat.bytes, blobId, next, missing: false, damaged: false };
  }
}
