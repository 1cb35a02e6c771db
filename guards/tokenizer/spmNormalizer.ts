/**
 * SentencePiece's own normalization (sentencepiece/src/normalizer.cc, `Normalizer::Normalize`),
 * for tokenizers whose tokenizer.json carries a `Precompiled` normalizer: DeBERTa-v3 and
 * mDeBERTa, hence Meta's Prompt Guard 1 and 2. Given the same text, it returns the string
 * SentencePiece's unigram model segments, so the ids equal SentencePiece's.
 *
 * Transformers' DebertaV2Converter expresses the same steps as Strip + Precompiled +
 * Replace(" {2,}", " ") + a Metaspace pre-tokenizer, which @huggingface/tokenizers does not
 * reproduce exactly (its Precompiled is an NFKC approximation, and Strip runs before the map,
 * so a leading character the map turns into a space survives). Here the steps run as
 * SentencePiece runs them, on UTF-8 bytes:
 *   1. with remove_extra_whitespaces, skip leading input whose normalized form is one space;
 *   2. prepend the word marker (add_dummy_prefix);
 *   3. replace each longest charsmap match (or copy one character), dropping spaces that follow
 *      a space, and writing every space as the marker U+2581;
 *   4. with remove_extra_whitespaces, drop trailing markers.
 */
import { PrecompiledCharsmap } from './precompiledCharsmap';

type Json = Record<string, unknown>;

export interface SpmNormalizerOptions {
  charsmap: PrecompiledCharsmap;
  removeExtraWhitespaces: boolean;
  addDummyPrefix: boolean;
  /** Lowercase first (DebertaV2Tokenizer's do_lower_case, a Lowercase step in tokenizer.json). */
  lowercase: boolean;
}

const MARKER = [0xe2, 0x96, 0x81]; // U+2581 in UTF-8
const SPACE = 0x20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SpmNormalizer {
  constructor(readonly options: SpmNormalizerOptions) {}

  /**
   * The SentencePiece pipeline a tokenizer.json describes, when its normalizer has a
   * `Precompiled` step; undefined otherwise (the tokenizer's own normalizer is then exact).
   */
  static fromTokenizerJson(tokenizerJson: Json): SpmNormalizer | undefined {
    const steps = normalizerSteps(tokenizerJson.normalizer);
    const precompiled = steps.find((s) => s.type === 'Precompiled');
    if (!precompiled || typeof precompiled.precompiled_charsmap !== 'string') return undefined;
    const known = new Set(['Precompiled', 'Strip', 'Replace', 'Lowercase']);
    const unknown = steps.filter((s) => !known.has(String(s.type)));
    if (unknown.length > 0) {
      throw new Error(`tokenizer.json: a Precompiled (SentencePiece) normalizer combined with ${unknown.map((s) => String(s.type)).join(', ')} is not supported`);
    }
    // The DeBERTa converter's one Replace folds runs of spaces (remove_extra_whitespaces). Any other
    // (Prompt Guard 2's tokenizer is said to carry more) would change the text before the model
    // reads it: scoring without it would give Meta's model input it was never trained on.
    const otherReplace = steps.find((s) => s.type === 'Replace' && !isSpaceFolding(s));
    if (otherReplace) {
      throw new Error(
        `tokenizer.json: its normalizer replaces ${JSON.stringify(otherReplace.pattern)} with ${JSON.stringify(otherReplace.content)}, which the gateway's SentencePiece normalizer does not reproduce; serve this model on text-embeddings-inference (prompt_guard backend: tei), which tokenizes with the model's own tokenizer`,
      );
    }
    return new SpmNormalizer({
      charsmap: PrecompiledCharsmap.fromBase64(precompiled.precompiled_charsmap),
      // The converter writes Strip and Replace(" {2,}", " ") exactly when the model removes extra whitespace.
      removeExtraWhitespaces: steps.some((s) => s.type === 'Strip' || s.type === 'Replace'),
      addDummyPrefix: metaspacePrepends(tokenizerJson.pre_tokenizer),
      lowercase: steps.some((s) => s.type === 'Lowercase'),
    });
  }

  /** The normalized text with U+2581 word markers, as SentencePiece's model sees it. */
  normalize(text: string): string {
    const input = encoder.encode(this.options.lowercase ? text.toLowerCase() : text);
    const { charsmap, removeExtraWhitespaces, addDummyPrefix } = this.options;
    const out: number[] = [];
    let at = 0;
    const next = (): { length: number; replacement: Uint8Array } => {
      const match = charsmap.longestMatch(input, at);
      if (match) return match;
      const length = Math.min(utf8Length(input[at]), input.length - at);
      return { length, replacement: input.subarray(at, at + length) };
    };
    if (removeExtraWhitespaces) {
      while (at < input.length) {
        const p = next();
        if (!(p.replacement.length === 1 && p.replacement[0] === SPACE)) break;
        at += p.length;
      }
    }
    if (at >= input.length) return '';
    if (addDummyPrefix) out.push(...MARKER);
    let previousWasSpace = removeExtraWhitespaces;
    while (at < input.length) {
      const { length, replacement } = next();
      let from = 0;
      if (previousWasSpace) while (from < replacement.length && replacement[from] === SPACE) from++;
      if (from < replacement.length) {
        for (let k = from; k < replacement.length; k++) {
          if (replacement[k] === SPACE) out.push(...MARKER);
          else out.push(replacement[k]);
        }
        previousWasSpace = replacement[replacement.length - 1] === SPACE;
      }
      at += length;
      if (!removeExtraWhitespaces) previousWasSpace = false;
    }
    if (removeExtraWhitespaces) {
      while (out.length >= 3 && out[out.length - 3] === MARKER[0] && out[out.length - 2] === MARKER[1] && out[out.length - 1] === MARKER[2]) out.length -= 3;
    }
    return decoder.decode(Uint8Array.from(out));
  }
}

/** Byte length of the UTF-8 sequence a lead byte starts (TextEncoder output is always valid). */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

function normalizerSteps(node: unknown): Json[] {
  if (!node || typeof node !== 'object') return [];
  const n = node as Json;
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) return n.normalizers.flatMap(normalizerSteps);
  return [n];
}

/** Whether the Metaspace pre-tokenizer prepends the marker (`prepend_scheme` always / first, or the old `add_prefix_space`). */
function metaspacePrepends(node: unknown): boolean {
  if (!node || typeof node !== 'object') return true;
  const n = node as Json;
  if (n.type === 'Metaspace') {
    if (typeof n.prepend_scheme === 'string') return n.prepend_scheme !== 'never';
    return n.add_prefix_space !== false;
  }
  if (n.type === 'Sequence' && Array.isArray(n.pretokenizers)) {
    const metaspace = n.pretokenizers.find((p) => p && typeof p === 'object' && (p as Json).type === 'Metaspace');
    return metaspace ? metaspacePrepends(metaspace) : true;
  }
  return true;
}

/** The Replace step transformers' DebertaV2Converter writes: a run of two or more spaces becomes one. */
function isSpaceFolding(step: Json): boolean {
  const pattern = step.pattern as { Regex?: unknown; String?: unknown } | undefined;
  return step.content === ' ' && pattern?.Regex === ' {2,}';
}
