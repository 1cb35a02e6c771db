/**
 * Cutting long text into slices that are tokenized one at a time, so the event loop gets a
 * turn between slices (the JS tokenizer is synchronous: about 1.5 us per character, so a 1 MB
 * text would otherwise hold the loop for seconds).
 *
 * Cuts go just before a run of whitespace: the Metaspace pre-tokenizer starts every word at a
 * space, so a slice that begins with the space its first word had in the whole text yields the
 * same tokens as the whole text would. Text with no whitespace in reach is cut at a fixed
 * length (never inside a surrogate pair); only the tokens at that one cut can differ.
 */

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Index at which to cut `text` so the first slice has at most `maxChars` characters. */
export function cutIndex(text: string, start: number, maxChars: number): number {
  const hardEnd = start + maxChars;
  if (hardEnd >= text.length) return text.length;
  const floor = start + Math.floor(maxChars / 2);
  // Prefer a plain space (what Metaspace turns into the word marker), then any whitespace.
  for (const pattern of [/ /, /\s/]) {
    for (let i = hardEnd; i > floor; i--) {
      if (pattern.test(text[i]) && !/\s/.test(text[i - 1])) return i;
    }
  }
  return isHighSurrogate(text.charCodeAt(hardEnd - 1)) ? hardEnd - 1 : hardEnd;
}

/** Slices whose concatenation is exactly `text`. */
export function sliceForTokenization(text: string, maxChars: number): string[] {
  if (maxChars < 2) throw new Error('maxChars must be at least 2');
  const slices: string[] = [];
  let start = 0;
  while (start < text.length) {
    const end = cutIndex(text, start, maxChars);
    slices.push(text.slice(start, end));
    start = end;
  }
  return slices;
}

/**
 * Fixed-length cuts for whitespace-free text (the whitespace-attack pass), placed where the
 * original text had no whitespace, so that a cut never falls where a space could be restored.
 * `followsWhitespace[i]` tells whether character i of the stripped text followed whitespace.
 */
export function sliceStrippedText(text: string, followsWhitespace: Uint8Array, maxChars: number): string[] {
  const slices: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxChars);
    if (end < text.length) {
      const floor = start + Math.floor(maxChars / 2);
      let i = end;
      while (i > floor && (followsWhitespace[i] === 1 || isHighSurrogate(text.charCodeAt(i - 1)))) i--;
      end = i > floor ? i : isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end;
    }
    slices.push(text.slice(start, end));
    start = end;
  }
  return slices;
}
