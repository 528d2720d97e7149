import { type BlobStore, LeangraphError } from "@leangraph/serde";
import { decodeNode } from "../codec/tree-node.js";
import {
  type Reached,
  type WalkRoots,
  type WalkRows,
  type WalkVisitor,
  walk,
} from "../core/reachability.js";
import { itemBodyPlain } from "../core/read/item-reader.js";
import type { ItemMeta } from "../core/row-store.js";
import type { ReadOnlyRows } from "../core/saver-rows-registry.js";

/** What storage holds for one piece the walk reached: a tree node, an item or a serializer blob. */
export interface Piece {
  bytes: number;
  /** Held by the blob store (rather than in an item row's body). */
  blobId: string | undefined;
  /** Referenced but not stored (no item row, or no blob). */
  missing: boolean;
  /** Stored, but wrong: an item body that does not hash to its id, or a node that cannot be decoded. */
  damaged: boolean;
}

/** A piece as a walk reports it to inspect. */
export interface ReachedPiece extends Piece {
  id: string;
  kind: "tree node" | "item" | "serializer blob";
}

const absent: Piece = { bytes: 0, blobId: undefined, missing: true, damaged: false };

/**
 * Byte and damage accounting over core/reachability.ts's one walk (which decides what a piece
 * leads to). The graph is the walk's reader: it reads each item and blob once and remembers it,
 * so threads and channels that share content cost one read; it checks database bodies against
 * their sha256 id as it reads them (they are small) and hands the walk nothing to follow from a
 * damaged one. Blobs are only checked to exist (reading every blob through the store checks
 * their bytes).
 */
export class PieceGraph {
  /** Item pieces, and the metadata the walk follows (undefined: no row holds the item). */
  readonly #items = new Map<string, { piece: Piece; meta: ItemMeta | undefined }>();
  readonly #blobs = new Map<string, Piece>();
  readonly #blobChildren = new Map<string, string[]>();
  readonly #walkRows: WalkRows = {
    itemMeta: (ids) => this.#itemMeta(ids),
    blobChildren: (ids) => this.#childrenOf(ids),
  };

  constructor(
    private readonly rows: ReadOnlyRows,
    private readonly blobStore: BlobStore,
  ) {}

  /**
   * Walks from `roots`, adding to `reached` what it lacks; sums the bytes and pieces added.
   * `onNew` sees each added piece, once.
   */
  async reach(
    roots: WalkRoots,
    reached: Reached,
    onNew?: (piece: ReachedPiece) => void,
  ): Promise<{ bytes: number; pieces: number }> {
    let bytes = 0;
    let pieces = 0;
    const count = (piece: ReachedPiece) => {
      bytes += piece.bytes;
      pieces += 1;
      onNew?.(piece);
    };
    const visit: WalkVisitor = {
      item: (id, kind) => count({ id, kind, ...this.#items.get(id)!.piece }),
      // An item's body blob was counted as the item.
      blob: (id, itemBody) => {
        if (!itemBody) count({ id, kind: "serializer blob", ...this.#blobs.get(id)! });
      },
    };
    await walk(this.#walkRows, roots, reached, visit);
    return { bytes, pieces };
  }

  /** Bytes, missing and damaged pieces over everything some walks reached. */
  totals(reached: Reached): { bytes: number; missing: number; damaged: number } {
    const totals = { bytes: 0, missing: 0, damaged: 0 };
    const add = (piece: Piece) => {
      totals.bytes += piece.bytes;
      if (piece.missing) totals.missing += 1;
      if (piece.damaged) totals.damaged += 1;
    };
    for (const id of reached.items) add(this.#items.get(id)!.piece);
    for (const id of reached.blobIds) if (!this.#items.has(id)) add(this.#blobs.get(id)!);
    return totals;
  }

  async #itemMeta(ids: readonly string[]): Promise<Map<string, ItemMeta>> {
    const unknown = ids.filter((id) => !this.#items.has(id));
    if (unknown.length > 0) {
      const [bodies, metas] = await Promise.all([
        this.rows.itemBodies(unknown),
        this.rows.itemMeta(unknown),
      ]);
      for (const id of unknown) this.#items.set(id, await this.#item(id, bodies, metas));
    }
    const found = new Map<string, ItemMeta>();
    for (const id of ids) {
      const meta = this.#items.get(id)!.meta;
      if (meta !== undefined) found.set(id, meta);
    }
    return found;
  }

  async #item(
    id: string,
    bodies: Map<string, Uint8Array | null>,
    metas: Map<string, ItemMeta>,
  ): Promise<{ piece: Piece; meta: ItemMeta | undefined }> {
    const body = bodies.get(id);
    const meta = metas.get(id);
    if (body === undefined || meta === undefined) return { piece: absent, meta: undefined };
    if (body === null) return { piece: await this.#blob(id), meta };
    const damaged = {
      piece: { bytes: body.byteLength, blobId: undefined, missing: false, damaged: true },
      // Nothing to follow from bytes that are not what their id says.
      meta: { ...meta, nodeBytes: undefined, blobRefs: [] },
    };
    // Value bodies may be stored compressed; their id is the hash of the plain bytes (or, under
    // encryption, the envelope the rows opened them from proves them).
    const where = `item ${id}`;
    if (itemBodyPlain(body, id, where, this.rows.bodiesProvenByEnvelope) === undefined)
      return damaged;
    if (meta.nodeBytes !== undefined) {
      try {
        decodeNode(id, body);
      } catch (error) {
        if (error instanceof LeangraphError) return damaged;
        throw error;
      }
    }
    return {
      piece: { bytes: body.byteLength, blobId: undefined, missing: false, damaged: false },
      meta,
    };
  }

  async #childrenOf(blobIds: readonly string[]): Promise<Map<string, string[]>> {
    const unknown = blobIds.filter((id) => !this.#blobChildren.has(id));
    if (unknown.length > 0) {
      const children = await this.rows.blobChildren(unknown);
      for (const id of unknown) {
        this.#blobChildren.set(id, children.get(id) ?? []);
        await this.#blob(id);
      }
    }
    return new Map(blobIds.map((id) => [id, this.#blobChildren.get(id)!]));
  }

  async #blob(blobId: string): Promise<Piece> {
    let piece = this.#blobs.get(blobId);
    if (piece === undefined) {
      const stat = await this.blobStore.stat(blobId);
      piece =
        stat === undefined
          ? { ...absent, blobId }
          : { bytes: stat.bytes, blobId, missing: false, damaged: false };
      this.#blobs.set(blobId, piece);
    }
    return piece;
  }
}
