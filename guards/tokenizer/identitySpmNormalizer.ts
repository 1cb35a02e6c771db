/**
 * SentencePiece's `identity` normalization (no charsmap, extra whitespace kept, a dummy prefix),
 * as our training scripts' converter writes it into tokenizer.json
 * (guards/training/sp_tokenizer_json.py): normalizer Sequence[Prepend("▁"), Replace(" " -> "▁")]
 * and a Metaspace pre-tokenizer that neither prepends nor splits. The whole text is one lattice.
 *
 * Recognizing this exact layout lets the bundled models run through our SentencePiece
 * segmentation (spmUnigram.ts), which reproduces python3-sentencepiece to the bit and is several
 * times faster than @huggingface/tokenizers' Unigram. Any other layout returns undefined and
 * keeps the library.
 */

type Json = Record<string, unknown>;

const MARKER = '\u2581';

export class IdentitySpmNormalizer {
  static fromTokenizerJson(tokenizerJson: Json): IdentitySpmNormalizer | undefined {
    const normalizer = tokenizerJson.normalizer as Json | null | undefined;
    if (!normalizer || normalizer.type !== 'Sequence' || !Array.isArray(normalizer.normalizers)) return undefined;
    const [prepend, replace, ...rest] = normalizer.normalizers as Json[];
    if (rest.length > 0 || !prepend || !replace) return undefined;
    if (prepend.type !== 'Prepend' || prepend.prepend !== MARKER) return undefined;
    const pattern = replace.pattern as Json | undefined;
    if (replace.type !== 'Replace' || pattern?.String !== ' ' || replace.content !== MARKER) return undefined;
    return isPassThroughMetaspace(tokenizerJson.pre_tokenizer) ? new IdentitySpmNormalizer() : undefined;
  }

  /** The text as SentencePiece's model sees it: one marker first, every U+0020 a marker. */
  normalize(text: string): string {
    return MARKER + text.replaceAll(' ', MARKER);
  }
}

/** No pre-tokenizer, or a Metaspace one that adds nothing and splits nothing. */
function isPassThroughMetaspace(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  if (typeof node !== 'object') return false;
  const n = node as Json;
  return n.type === 'Metaspace' && (n.replacement ?? MARKER) === MARKER && n.prepend_scheme === 'never' && n.split === false;
}
