/**
 * SentencePiece's precompiled normalization map (`precompiled_charsmap`, e.g. `nmt_nfkc`), read
 * exactly as SentencePiece reads it. @huggingface/tokenizers approximates it with NFKC plus a
 * few replacements, which gave other ids than SentencePiece for ~19% of the parity corpus on a
 * DeBERTa-v3-style tokenizer; Meta's Prompt Guard tokenizers carry this map.
 *
 * Layout of the blob: a little-endian uint32 with the trie's size in bytes, the trie (a
 * Darts-clone double array of uint32 units over UTF-8 bytes), then a pool of NUL-terminated
 * UTF-8 replacement strings; a trie value is an offset into the pool.
 */

export interface CharsmapMatch {
  /** Input bytes the rule consumes. */
  length: number;
  /** What they become (UTF-8, possibly empty). */
  replacement: Uint8Array;
}

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly pool: Uint8Array;

  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw new Error('precompiled_charsmap is too short');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > blob.length) throw new Error('precompiled_charsmap has an invalid trie size');
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + i * 4, true);
    this.pool = blob.subarray(4 + trieBytes);
  }

  static fromBase64(base64: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(new Uint8Array(Buffer.from(base64, 'base64')));
  }

  /** The longest rule matching `bytes` at `from` (Darts-clone commonPrefixSearch), if any. */
  longestMatch(bytes: Uint8Array, from: number): CharsmapMatch | undefined {
    const units = this.units;
    let pos = unitOffset(units[0]);
    let best: { length: number; value: number } | undefined;
    for (let i = from; i < bytes.length; i++) {
      const byte = bytes[i];
      pos ^= byte;
      const unit = units[pos];
      if (unit === undefined || unitLabel(unit) !== byte) break;
      pos ^= unitOffset(unit);
      if (unitHasLeaf(unit)) {
        const leaf = units[pos];
        if (leaf !== undefined) best = { length: i - from + 1, value: leaf & 0x7fffffff };
      }
    }
    if (!best) return undefined;
    let end = best.value;
    while (end < this.pool.length && this.pool[end] !== 0) end++;
    return { length: best.length, replacement: this.pool.subarray(best.value, end) };
  }
}

// Darts-clone unit encoding (darts.h: DoubleArrayUnit).
function unitHasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1;
}

function unitLabel(unit: number): number {
  return (unit & 0x800000ff) >>> 0;
}

function unitOffset(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}
