/**
 * SentencePiece's unigram segmentation (unigram_model.cc, `Model::EncodeOptimized`, the
 * encoder of the reference python3-sentencepiece 0.1.97) over text already normalized by
 * spmNormalizer.ts, reproduced to the bit, arithmetic included:
 * - the best path ending at each position is stored as a float32; a piece's candidate is
 *   computed in double (piece score + stored best) and compared with the stored float32, and
 *   only a strictly better one replaces it, so on a tie the earliest-starting last piece wins.
 *   Segmentations with the same pieces in another order often tie (a word repeated 15 times);
 *   which one wins depends on exactly this rounding, and tokenizers.js (all float64, another
 *   tie rule) picks others;
 * - a character no piece covers alone becomes [UNK] at (lowest piece score - 10), and runs of
 *   [UNK] merge into one, as SentencePieceProcessor::Encode does;
 * - control and unknown pieces (the special tokens) are never matched in text.
 *
 * The vocabulary is held as a trie whose edges, (node, UTF-16 unit) -> child, sit in one
 * open-addressing hash table of typed arrays: lighter than a Map per node for the 128k-251k-piece
 * DeBERTa vocabularies, and faster to probe than one Map keyed by node * 65536 + unit (segment()
 * went from about 53 to 37 ns per character on the bundled 8k vocabularies; a large vocabulary's
 * keys also leave the small-integer range). Built through a Map while the vocabulary is inserted,
 * then frozen into the table.
 */

export interface SpmSegment {
  id: number;
  /** Code-unit offsets into the normalized text. */
  start: number;
  end: number;
}

const UNK_PENALTY = 10;
const UNITS = 0x10000;

export class SpmUnigram {
  /** Edges while building; emptied once frozen into the table below. */
  private children = new Map<number, number>();
  /** Edge table: parent node + 1 (0: empty slot), the unit, and the child; size a power of two. */
  private edgeParent: Int32Array = new Int32Array(0);
  private edgeUnit: Uint16Array = new Uint16Array(0);
  private edgeChild: Int32Array = new Int32Array(0);
  private edgeShift = 32;
  /** Piece index ending at each trie node, -1 for none. */
  private pieceAt: Int32Array;
  private readonly scores: Float32Array;
  private readonly unkScore: number;
  private nodes = 1;

  constructor(
    vocab: readonly (readonly [string, number])[],
    private readonly unkId: number,
    /** Ids never matched in text: control pieces and [UNK]. */
    excluded: ReadonlySet<number>,
  ) {
    this.scores = Float32Array.from(vocab, (v) => v[1]);
    this.pieceAt = new Int32Array(1024).fill(-1);
    let min = Infinity;
    vocab.forEach(([piece, score], id) => {
      if (excluded.has(id) || id === unkId || piece.length === 0) return;
      this.insert(piece, id);
      min = Math.min(min, Math.fround(score));
    });
    this.unkScore = Math.fround((Number.isFinite(min) ? min : 0) - UNK_PENALTY);
    this.freeze();
  }

  /** Moves the edges into the hash table (load factor at most 1/2, linear probing). */
  private freeze(): void {
    let bits = 4;
    while (1 << bits < this.children.size * 2) bits++;
    const size = 1 << bits;
    this.edgeParent = new Int32Array(size);
    this.edgeUnit = new Uint16Array(size);
    this.edgeChild = new Int32Array(size);
    this.edgeShift = 32 - bits;
    const mask = size - 1;
    for (const [key, child] of this.children) {
      const node = Math.floor(key / UNITS);
      const unit = key - node * UNITS;
      let slot = edgeHash(node, unit) >>> this.edgeShift;
      while (this.edgeParent[slot] !== 0) slot = (slot + 1) & mask;
      this.edgeParent[slot] = node + 1;
      this.edgeUnit[slot] = unit;
      this.edgeChild[slot] = child;
    }
    this.children = new Map();
  }

  /** The child of `node` along `unit`, or -1. */
  private child(node: number, unit: number): number {
    const parents = this.edgeParent;
    const mask = parents.length - 1;
    const tag = node + 1;
    for (let slot = edgeHash(node, unit) >>> this.edgeShift; ; slot = (slot + 1) & mask) {
      const p = parents[slot];
      if (p === 0) return -1;
      if (p === tag && this.edgeUnit[slot] === unit) return this.edgeChild[slot];
    }
  }

  private insert(piece: string, id: number): void {
    let node = 0;
    for (let i = 0; i < piece.length; i++) {
      const key = node * UNITS + piece.charCodeAt(i);
      let child = this.children.get(key);
      if (child === undefined) {
        child = this.nodes++;
        this.children.set(key, child);
        if (child >= this.pieceAt.length) {
          const grown = new Int32Array(this.pieceAt.length * 2).fill(-1);
          grown.set(this.pieceAt);
          this.pieceAt = grown;
        }
      }
      node = child;
    }
    // Duplicate pieces: the first id wins, as in SentencePiece's piece map.
    if (this.pieceAt[node] === -1) this.pieceAt[node] = id;
  }

  /** The best segmentation of `text` (normalized, with U+2581 markers). */
  segment(text: string): SpmSegment[] {
    const n = text.length;
    if (n === 0) return [];
    // Best path ending at each position: its float32 score, where its last piece starts, and which it is.
    const best = new Float32Array(n + 1);
    const startsAt = new Int32Array(n + 1).fill(-1);
    const ids = new Int32Array(n + 1);
    for (let start = 0; start < n; start = nextCodePoint(text, start)) {
      const here = best[start];
      const charEnd = nextCodePoint(text, start);
      let coversChar = false;
      let node = 0;
      for (let end = start; end < n; end++) {
        const child = this.child(node, text.charCodeAt(end));
        if (child < 0) break;
        node = child;
        const id = this.pieceAt[node];
        if (id < 0) continue;
        const at = end + 1;
        // A piece's candidate is a double (SentencePiece's `auto score` is a double there),
        // compared with the stored float32 best and stored rounded to float32.
        const candidate = this.scores[id] + here;
        if (startsAt[at] === -1 || candidate > best[at]) {
          best[at] = candidate;
          startsAt[at] = start;
          ids[at] = id;
        }
        if (at === charEnd) coversChar = true;
      }
      if (!coversChar) {
        // The [UNK] candidate is float32 arithmetic (a float plus a float).
        const candidate = Math.fround(this.unkScore + here);
        if (startsAt[charEnd] === -1 || candidate > best[charEnd]) {
          best[charEnd] = candidate;
          startsAt[charEnd] = start;
          ids[charEnd] = this.unkId;
        }
      }
    }
    const path: SpmSegment[] = [];
    for (let end = n; end > 0; end = startsAt[end]) {
      const id = ids[end];
      const start = startsAt[end];
      const previous = path[path.length - 1];
      // Backtracking runs right to left: an [UNK] before an [UNK] extends it.
      if (id === this.unkId && previous?.id === this.unkId) previous.start = start;
      else path.push({ id, start, end });
    }
    return path.reverse();
  }
}

/** Multiplicative hash of an edge; its top bits pick the slot. */
function edgeHash(node: number, unit: number): number {
  return Math.imul(node, 0x9e3779b1) ^ Math.imul(unit + 1, 0x85ebca6b);
}

function nextCodePoint(text: string, at: number): number {
  const unit = text.charCodeAt(at);
  if (unit >= 0xd800 && unit <= 0xdbff && at + 1 < text.length) {
    const low = text.charCodeAt(at + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return at + 2;
  }
  return at + 1;
}
