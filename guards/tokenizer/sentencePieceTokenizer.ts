/**
 * SentencePiece tokenization done as SentencePiece does it (spmNormalizer.ts + spmUnigram.ts),
 * for tokenizer.json files that describe a SentencePiece model with a precompiled charsmap:
 * DeBERTa-v3 and mDeBERTa, so Meta's Prompt Guard 1 and 2. Used by textTokenizer.ts in place
 * of @huggingface/tokenizers for those; every other tokenizer goes through the library.
 */
import { specialTokenContents } from './specialTokens';
import { SpmNormalizer } from './spmNormalizer';
import { SpmUnigram } from './spmUnigram';

type Json = Record<string, unknown>;

export class SentencePieceTokenizer {
  private constructor(
    private readonly normalizer: SpmNormalizer,
    private readonly unigram: SpmUnigram,
  ) {}

  /** The exact pipeline for this tokenizer.json, or undefined when it has no precompiled charsmap. */
  static fromTokenizerJson(tokenizerJson: Json): SentencePieceTokenizer | undefined {
    const normalizer = SpmNormalizer.fromTokenizerJson(tokenizerJson);
    if (!normalizer) return undefined;
    const model = (tokenizerJson.model ?? {}) as Json;
    if (model.type !== 'Unigram' || !Array.isArray(model.vocab)) {
      throw new Error(`tokenizer.json: a Precompiled (SentencePiece) normalizer needs a Unigram model, found ${String(model.type)}`);
    }
    const vocab = model.vocab as [string, number][];
    const unkId = typeof model.unk_id === 'number' ? model.unk_id : 0;
    // Special tokens are SentencePiece's control pieces: never matched in text.
    const specials = new Set(specialTokenContents(tokenizerJson));
    const excluded = new Set<number>();
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
