/**
 * Tokenizing long text without stalling the event loop: the text is cut into slices
 * (text/slices.ts), each slice is tokenized synchronously (a few ms), and the loop gets a turn
 * (setImmediate) between slices, so HTTP traffic and other guards keep moving while a 1 MB
 * document is tokenized. Short text (one slice) is tokenized without any yield.
 */
import { sliceForTokenization, sliceStrippedText } from '../text/slices';
import { markTokenStarts, restoreSpaces, StrippedTextBuilder } from '../text/whitespaceAttack';
import type { TextTokenizer } from './textTokenizer';
import { pause } from '../runtime/yield';

export { yieldToEventLoop } from '../runtime/yield';

export interface LongTextOptions {
  /** Characters tokenized between two yields; 2,048 keeps each step at a few ms. */
  sliceChars?: number;
  signal?: AbortSignal;
}

export const DEFAULT_SLICE_CHARS = 2048;

/** Token ids of the whole text (no special tokens), tokenized slice by slice. */
export async function encodeLongText(tokenizer: TextTokenizer, text: string, options: LongTextOptions = {}): Promise<number[]> {
  const slices = sliceForTokenization(text, options.sliceChars ?? DEFAULT_SLICE_CHARS);
  const ids: number[] = [];
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) await pause(options.signal);
    for (const id of tokenizer.encodeIds(slices[i])) ids.push(id);
  }
  return ids;
}

/**
 * Meta's whitespace-attack mitigation (text/whitespaceAttack.ts) over text of any length.
 * Text without whitespace is returned as is (nothing to remove).
 */
export async function removeTokenSplittingSpaces(tokenizer: TextTokenizer, text: string, options: LongTextOptions = {}): Promise<string> {
  if (!/\s/.test(text)) return text;
  const sliceChars = options.sliceChars ?? DEFAULT_SLICE_CHARS;
  // Linear passes (strip, restore) go in larger steps than tokenization: they are ~30x cheaper per character.
  const linearChars = sliceChars * 16;
  const builder = new StrippedTextBuilder();
  for (let from = 0; from < text.length; from += linearChars) {
    if (from > 0) await pause(options.signal);
    builder.append(text.slice(from, from + linearChars));
  }
  const stripped = builder.finish();
  const starts = new Uint8Array(stripped.stripped.length);
  const slices = sliceStrippedText(stripped.stripped, stripped.followsWhitespace, sliceChars);
  let offset = 0;
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) await pause(options.signal);
    const slice = slices[i];
    const surfaces = tokenizer.tokens(slice).map((t) => tokenizer.surface(t));
    // Align against what the tokenizer saw when its normalizer keeps positions (case folding,
    // one-to-one maps); otherwise against the raw slice, where unmatched tokens are skipped.
    const normalized = tokenizer.normalize(slice);
    markTokenStarts(normalized.length === slice.length ? normalized : slice, surfaces, starts, offset);
    offset += slice.length;
  }
  const parts: string[] = [];
  for (let from = 0; from < stripped.stripped.length; from += linearChars) {
    if (from > 0) await pause(options.signal);
    parts.push(restoreSpaces(stripped, starts, from, Math.min(stripped.stripped.length, from + linearChars)));
  }
  return parts.join('');
}
