/**
 * SentencePiece tokenization done as SentencePiece does it (a normalizer + spmUnigram.ts), for
 * tokenizer.json files that describe a SentencePiece model:
 * - with a precompiled charsmap (spmNormalizer.ts): DeBERTa-v3 and mDeBERTa, so Meta's Prompt
 *   Guard 1 and 2;
 * - with identity normalization (identitySpmNormalizer.ts): the bundled models.
 * Used by textTokenizer.ts in place of @huggingface/tokenizers for those; every other tokenizer
 * goes through the library.
 */
import { IdentitySpmNormalizer } from './identitySpmNormalizer';
import { specialTokenContents } from './specialTokens';
import { SpmNormalizer } from './spmNormalizer';
import { SpmUnigram } from './spmUnigram';

type Json = Record<string, unknown>;

/** Text in, the string SentencePiece's unigram model segments out (U+2581 word markers). */
export interface SpmTextNormalizer {
  normalize(text: string): string;
}

export class SentencePieceTokenizer {
  private constructor(
    private readonly normalizer: SpmTextNormalizer,
    private readonly unigram: SpmUnigram,
  ) {}

  /** The exact pipeline for this tokenizer.json, or undefined when it describes no SentencePiece layout we know. */
  /**
   * `frameIds`: the special tokens segments are framed with ([CLS], [SEP], [PAD]); they are
   * control pieces too, even where tokenizer.json keeps them only in the vocabulary (our
   * converter does, at a score of -1e6 that would otherwise set [UNK]'s score).
   */
  static fromTokenizerJson(tokenizerJson: Json, frameIds: readonly number[] = []): SentencePieceTokenizer | undefined {
    const model = (tokenizerJson.model ?? {}) as Json;
    const unigram = model.type === 'Unigram' && Array.isArray(model.vocab);
    const precompiled = SpmNormalizer.fromTokenizerJson(tokenizerJson);
    if (precompiled && !unigram) {
      throw new Error(`tokenizer.json: a Precompiled (SentencePiece) normalizer needs a Unigram model, found ${String(model.type)}`);
    }
    // Byte fallback (unknown characters as <0x..> pieces) is not reproduced here: the library
    // does it. The identity layout also fronts BPE models (Llama 2's tokenizer.json): library too.
    if (!unigram || model.byte_fallback === true) return undefined;
    const normalizer: SpmTextNormalizer | undefined = precompiled ?? IdentitySpmNormalizer.fromTokenizerJson(tokenizerJson);
    if (!normalizer) return undefined;
    const vocab = model.vocab as [string, number][];
    const unkId = typeof model.unk_id === 'number' ? model.unk_id : 0;
    // Special tokens are SentencePiece's control pieces: never matched in text.
    const specials = new Set(specialTokenContents(tokenizerJson));
    const excluded = new Set<number>(frameIds);
    vocab.forEach(([piece], id) => {
      if (specials.has(piece)) excluded.add(id);
    });
    return new SentencePieceTokenizer(normalizer, new SpmUnigram(vocab, unkId, excluded));
  }

  normalize(text: string): string {
    return this.normalizer.normalize(text);
  }

  encodeIds(text: string): number[] {
    return this.unigram.segment(this.normalize(text)).map((s) => s.id);
  }

  /** The pieces of the normalized text (a merged [UNK] run is one piece). */
  tokens(text: string): string[] {
    const normalized = this.normalize(text);
    return this.unigram.segment(normalized).map((s) => normalized.slice(s.start, s.end));
  }
}
