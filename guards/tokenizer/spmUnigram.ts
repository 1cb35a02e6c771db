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
 * The vocabulary is held as a trie in one Map keyed by (node, UTF-16 unit): lighter than a Map
 * per node for the 128k-251k-piece DeBERTa vocabularies.
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
  private readonly children = new Map<number, number>();
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
        const child = this.children.get(node * UNITS + text.charCodeAt(end));
        if (child === undefined) break;
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

function nextCodePoint(text: string, at: number): number {
  const unit = text.charCodeAt(at);
  if (unit >= 0xd800 && unit <= 0xdbff && at + 1 < text.length) {
    const low = text.charCodeAt(at + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return at + 2;
  }
  return at + 1;
}
