/**
 * Span and trace IDs in blocks from the component: one boundary crossing per few hundred
 * spans. Root blocks carry the component's sampling decision for each new trace.
 */

/** The part of the component's `recorder` export the pool needs. */
export interface IdSource {
  reserveRoots(count: number): Uint32Array;
  reserveSpanIds(count: number): Uint32Array;
}

/** Words per reserved root: trace ID (4), span ID (2), flags (1). */
export const ROOT_WORDS = 7;

const EMPTY = new Uint32Array(0);

/** Hands out reserved IDs, refilling in blocks. */
export class IdPool {
  /** The current block of roots; read the 7 words at the offset `nextRoot` returns. */
  roots: Uint32Array = EMPTY;
  /** The current block of span IDs; read the 2 words at the offset `nextSpanId` returns. */
  spanIds: Uint32Array = EMPTY;
  private r = 0;
  private s = 0;

  constructor(
    private readonly source: IdSource,
    private readonly block = 256,
  ) {}

  /** Offset in `roots` of a fresh root context. */
  nextRoot(): number {
    if (this.r >= this.roots.length) {
      this.roots = this.source.reserveRoots(this.block);
      this.r = 0;
    }
    const at = this.r;
    this.r += ROOT_WORDS;
    return at;
  }

  /** Offset in `spanIds` of a fresh span ID. */
  nextSpanId(): number {
    if (this.s >= this.spanIds.length) {
      this.spanIds = this.source.reserveSpanIds(this.block);
      this.s = 0;
    }
    const at = this.s;
    this.s += 2;
    return at;
  }
}
