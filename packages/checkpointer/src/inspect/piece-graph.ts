import { type BlobStore, LeangraphError, sha256Hex } from "@leangraph/serde";
import { decodeNode } from "../codec/tree-node.js";
import { nodeChildren, refRoots, type ValueRef } from "../codec/value-ref.js";
import type { CheckpointRow } from "../core/row-store.js";
import type { ReadOnlyRows } from "../core/saver-rows-registry.js";

/**
 * A piece of storage: a tree node (`n:`), a value item (`v:`) or a serializer blob (`b:`). The
 * prefix says how to read it, because an item row does not say what it is.
 */
export type PieceKey = string;

export interface Piece {
  bytes: number;
  /** Held by the blob store (rather than in an item row's body). */
  blobId: string | undefined;
  next: PieceKey[];
  /** Referenced but not stored (no item row, or no blob). */
  missing: boolean;
  /** Stored, but wrong: an item body that does not hash to its id, or a node that cannot be decoded. */
  damaged: boolean;
}

export function pieceIdOf(key: PieceKey): string {
  return key.slice(2);
}

export function pieceKindOf(key: PieceKey): "tree node" | "item" | "serializer blob" {
  return key.startsWith("n:") ? "tree node" : key.startsWith("v:") ? "item" : "serializer blob";
}

function blobKeys(blobIds: readonly string[]): PieceKey[] {
  return blobIds.map((id) => `b:${id}`);
}

/** Pieces a value ref points at. Inline values never reference blobs (see ValueCodec.encode). */
export function rootKeys(ref: ValueRef): PieceKey[] {
  const { nodeIds, itemIds } = refRoots(ref);
  return [...nodeIds.map((id) => `n:${id}`), ...itemIds.map((id) => `v:${id}`)];
}

/** The serializer blobs a checkpoint row's own checkpoint and metadata bytes reference. */
export function rowBlobKeys(row: CheckpointRow): PieceKey[] {
  return blobKeys(row.blobRefs);
}

const absent: Piece = { bytes: 0, blobId: undefined, next: [], missing: true, damaged: false };

/**
 * The store's pieces as a graph, read once and remembered, so threads and channels that share
 * content cost one read. Follows the references the saver recorded, as mark-and-sweep does: tree
 * nodes down to their items, items and rows to the serializer blobs they name, and those blobs
 * to the blobs recorded as theirs (a JSON blob's references, a chunk list's chunks). Database bodies
 * are checked against their sha256 id as they are read (they are small); blobs are only checked
 * to exist (reading every blob through the store checks their bytes).
 */
export class PieceGraph {
  readonly #pieces = new Map<PieceKey, Piece>();

  constructor(
    private readonly rows: ReadOnlyRows,
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
    const itemIds = unknown.filter((key) => !key.startsWith("b:")).map(pieceIdOf);
    const blobIds = unknown.filter((key) => key.startsWith("b:")).map(pieceIdOf);
    const [bodies, metas, children] = await Promise.all([
      itemIds.length > 0 ? this.rows.itemBodies(itemIds) : new Map<string, Uint8Array | null>(),
      itemIds.length > 0 ? this.rows.itemMeta(itemIds) : new Map(),
      blobIds.length > 0 ? this.rows.blobChildren(blobIds) : new Map<string, string[]>(),
    ]);
    for (const key of unknown) {
      const id = pieceIdOf(key);
      this.#pieces.set(
        key,
        key.startsWith("b:")
          ? await this.#blobPiece(id, blobKeys(children.get(id) ?? []))
          : await this.#itemPiece(key, bodies.get(id), metas.get(id)),
      );
    }
  }

  async #itemPiece(
    key: PieceKey,
    body: Uint8Array | null | undefined,
    meta: { blobRefs: string[] } | undefined,
  ): Promise<Piece> {
    const id = pieceIdOf(key);
    if (body === undefined || meta === undefined) return absent;
    const named = blobKeys(meta.blobRefs);
    if (body === null) return this.#blobPiece(id, named);
    const damagedBody = {
      bytes: body.byteLength,
      blobId: undefined,
      next: [],
      missing: false,
      damaged: true,
    };
    if (sha256Hex(body) !== id) return damagedBody;
    if (key.startsWith("v:"))
      return {
        bytes: body.byteLength,
        blobId: undefined,
        next: named,
        missing: false,
        damaged: false,
      };
    // Tree nodes always live in the database.
    let node: ReturnType<typeof decodeNode>;
    try {
      node = decodeNode(id, body);
    } catch (error) {
      if (error instanceof LeangraphError) return damagedBody;
      throw error;
    }
    const { nodeIds, itemIds } = nodeChildren(node);
    const children: PieceKey[] = [
      ...nodeIds.map((child) => `n:${child}`),
      ...itemIds.map((child) => `v:${child}`),
    ];
    return {
      bytes: body.byteLength,
      blobId: undefined,
      next: [...children, ...named],
      missing: false,
      damaged: false,
    };
  }

  async #blobPiece(blobId: string, next: PieceKey[]): Promise<Piece> {
    const stat = await this.blobStore.stat(blobId);
    if (stat === undefined) return { ...absent, blobId };
    return { bytes: stat.bytes, blobId, next, missing: false, damaged: false };
  }
}
