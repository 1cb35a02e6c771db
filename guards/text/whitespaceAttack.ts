/**
 * Meta's whitespace-attack mitigation for Prompt Guard ("remove the spaces that split larger
 * tokens apart"; llama-cookbook prompt_guard inference script, also applied to v2 by
 * LlamaFirewall): "i g n o r e previous" scores benign because every letter becomes its own
 * token. The text is tokenized with all whitespace removed, then one space is put back only
 * before tokens whose first character followed whitespace in the original.
 *
 * Meta's Python finds each token in the stripped text with str.index. @huggingface/tokenizers
 * exposes no offsets, so the same alignment is computed here by matching each token's surface
 * (its piece without the word-start marker) at a cursor in the stripped text. Unlike Meta's
 * code, characters are never dropped: a token that cannot be aligned (the tokenizer's own
 * normalizer changed it) simply marks no start, and its characters stay in place.
 */

export interface StrippedText {
  /** The text with every whitespace character removed. */
  stripped: string;
  /** 1 where the stripped character followed whitespace in the original text. */
  followsWhitespace: Uint8Array;
}

const WHITESPACE = /\s/;

/**
 * Builds a StrippedText from consecutive chunks of the original text (cut anywhere), so a
 * long text can be stripped a chunk at a time with the event loop running in between.
 */
export class StrippedTextBuilder {
  private readonly chunks: string[] = [];
  private readonly afterRun: number[] = [];
  private length = 0;
  private previousWasSpace = false;

  append(chunk: string): void {
    if (chunk.length === 0) return;
    // Native regex passes (fast on long text) instead of a per-character loop: one records
    // where each whitespace run ends, one drops the runs.
    if (this.previousWasSpace && !WHITESPACE.test(chunk[0])) this.afterRun.push(this.length);
    const runs = /\s+/g;
    let removed = 0;
    for (let m = runs.exec(chunk); m !== null; m = runs.exec(chunk)) {
      removed += m[0].length;
      const end = m.index + m[0].length;
      if (end < chunk.length) this.afterRun.push(this.length + end - removed);
    }
    this.previousWasSpace = WHITESPACE.test(chunk[chunk.length - 1]);
    const text = removed ? chunk.replace(/\s+/g, '') : chunk;
    this.chunks.push(text);
    this.length += text.length;
  }

  finish(): StrippedText {
    const followsWhitespace = new Uint8Array(this.length);
    for (const j of this.afterRun) if (j < this.length) followsWhitespace[j] = 1;
    return { stripped: this.chunks.join(''), followsWhitespace };
  }
}

export function stripWhitespace(text: string): StrippedText {
  const builder = new StrippedTextBuilder();
  builder.append(text);
  return builder.finish();
}

/** How far ahead a token may be found before the alignment gives up on it. */
const LOOKAHEAD = 8;

/**
 * Marks in `starts` (indexed like the whole stripped text) where each token of `slice` begins.
 * `slice` is the stripped text from `offset` on, as the tokenizer's normalizer saw it.
 */
export function markTokenStarts(slice: string, surfaces: readonly string[], starts: Uint8Array, offset: number): void {
  let cursor = 0;
  // Characters that unaligned tokens probably covered: the next token may be that much further on.
  let slack = 0;
  for (const surface of surfaces) {
    if (surface.length === 0) continue; // a lone word marker covers no character
    let at = slice.startsWith(surface, cursor) ? cursor : slice.indexOf(surface, cursor);
    if (at >= 0 && at - cursor > LOOKAHEAD + slack) at = -1;
    if (at < 0) {
      slack += surface.length;
      continue;
    }
    starts[offset + at] = 1;
    cursor = at + surface.length;
    slack = 0;
  }
}

/**
 * The stripped text with one space before every token start that followed whitespace.
 * `from`/`to` restrict the work to a range (stripped-text indices), so long text can be
 * restored a range at a time; the ranges' results concatenate to the whole.
 */
export function restoreSpaces(stripped: StrippedText, starts: Uint8Array, from = 0, to = stripped.stripped.length): string {
  const { stripped: text, followsWhitespace } = stripped;
  const parts: string[] = [];
  let copyFrom = from;
  for (let j = from; j < to; j++) {
    if (starts[j] === 1 && followsWhitespace[j] === 1) {
      parts.push(text.slice(copyFrom, j), ' ');
      copyFrom = j;
    }
  }
  parts.push(text.slice(copyFrom, to));
  return parts.join('');
}
