/**
 * The tokenizer as the guards use it: plain text in, token ids out, never adding special
 * tokens itself (segments get their frame in segments.ts).
 *
 * Special-token strings typed by a user ("[CLS]", "[SEP]", "<|eot_id|>") must be read as plain
 * text: @huggingface/tokenizers (like the Python library's default) cuts every added token out
 * of the input and emits its id, which would let a user forge segment boundaries. It has no
 * `split_special_tokens` switch, so the tokenizer is built from a copy of tokenizer.json in
 * which special added tokens are dropped and their vocabulary entries renamed to a string that
 * cannot occur in sanitized text (it starts with U+0000, which sanitize.ts removes). The
 * renamed entries keep their ids, so nothing else shifts.
 *
 * SentencePiece tokenizers with a precompiled charsmap (DeBERTa, so Prompt Guard) or with
 * identity normalization (the bundled models) are run by sentencePieceTokenizer.ts exactly as
 * SentencePiece runs them: the library approximates the charsmap and scores paths in float64,
 * which gave other ids on ~19% of the DeBERTa-style parity corpus, and its Unigram is 5-7x
 * slower (it tokenizes every text twice for the whitespace fix).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { resolveSegmentFrame, specialTokenContents, type SegmentFrame } from './specialTokens';
import { SentencePieceTokenizer } from './sentencePieceTokenizer';

type Json = Record<string, unknown>;

/** Prefix that makes a vocabulary entry unreachable from sanitized text. */
export const UNREACHABLE_PREFIX = '\u0000';

/** A copy of tokenizer.json in which special tokens can only be produced by us, never by text. */
export function neutralizeSpecialTokens(tokenizerJson: Json): Json {
  const specials = new Set(specialTokenContents(tokenizerJson));
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
  const keptAdded = added.filter((t) => !(t && typeof t === 'object' && specials.has((t as Json).content as string) && (t as Json).special === true));
  const model = { ...(tokenizerJson.model as Json) };
  const vocab = model.vocab;
  if (Array.isArray(vocab)) {
    // Unigram: [[piece, score], ...]
    model.vocab = vocab.map((entry) =>
      Array.isArray(entry) && specials.has(entry[0] as string) ? [UNREACHABLE_PREFIX + String(entry[0]), entry[1]] : entry,
    );
  } else if (vocab && typeof vocab === 'object') {
    // BPE / WordPiece: { piece: id }
    const renamed: Record<string, unknown> = {};
    for (const [piece, id] of Object.entries(vocab as Json)) renamed[specials.has(piece) ? UNREACHABLE_PREFIX + piece : piece] = id;
    model.vocab = renamed;
  }
  return { ...tokenizerJson, added_tokens: keptAdded, model };
}

/** The Metaspace replacement character (usually U+2581) when the pre-tokenizer uses one. */
export function metaspaceReplacement(tokenizerJson: Json): string | undefined {
  const find = (node: unknown): string | undefined => {
    if (!node || typeof node !== 'object') return undefined;
    const n = node as Json;
    if (n.type === 'Metaspace') return typeof n.replacement === 'string' ? n.replacement : '\u2581';
    if (n.type === 'Sequence' && Array.isArray(n.pretokenizers)) {
      for (const p of n.pretokenizers) {
        const r = find(p);
        if (r) return r;
      }
    }
    return undefined;
  };
  return find(tokenizerJson.pre_tokenizer);
}

export class TextTokenizer {
  readonly frame: SegmentFrame;
  /** @huggingface/tokenizers, for every tokenizer but SentencePiece ones with a precompiled charsmap. */
  private readonly library: Tokenizer | undefined;
  private readonly sentencePiece: SentencePieceTokenizer | undefined;
  private readonly replacement: string | undefined;

  constructor(tokenizerJson: Json, tokenizerConfig: Json) {
    this.frame = resolveSegmentFrame(tokenizerJson, tokenizerConfig);
    this.replacement = metaspaceReplacement(tokenizerJson);
    this.sentencePiece = SentencePieceTokenizer.fromTokenizerJson(tokenizerJson, [...this.frame.prefix, ...this.frame.suffix, this.frame.padId]);
    if (this.sentencePiece) return;
    try {
      this.library = new Tokenizer(neutralizeSpecialTokens(tokenizerJson), tokenizerConfig);
    } catch (err) {
      throw new Error(`tokenizer.json could not be loaded by @huggingface/tokenizers: ${(err as Error).message}`);
    }
  }

  /** Token ids of plain text, no special tokens added. Synchronous: callers slice long text. */
  encodeIds(text: string): number[] {
    if (text.length === 0) return [];
    if (this.sentencePiece) return this.sentencePiece.encodeIds(text);
    return this.library!.encode(text, { add_special_tokens: false }).ids;
  }

  /** Token strings (pieces of the normalized text, as the model segmented it). */
  tokens(text: string): string[] {
    if (text.length === 0) return [];
    if (this.sentencePiece) return this.sentencePiece.tokens(text);
    return this.library!.tokenize(text, { add_special_tokens: false });
  }

  /** What a token covers in whitespace-free text: the piece without its word-start marker. */
  surface(token: string): string {
    // replaceAll, not split/join (the same string, without the array): this runs for every token
    // of the whitespace-attack fix.
    const replacement = this.replacement;
    return replacement && token.includes(replacement) ? token.replaceAll(replacement, '') : token;
  }

  /** The tokenizer's own normalizer (e.g. Precompiled / lowercasing), or identity when it has none. */
  normalize(text: string): string {
    if (this.sentencePiece) return this.sentencePiece.normalize(text);
    const normalizer = this.library!.normalizer;
    return normalizer ? normalizer(text) : text;
  }
}
