import type { Llama3Tokenizer } from 'llama3-tokenizer-js';

/**
 * Counting with the Llama 3 tokenizer (llama3-tokenizer-js, the same BPE as the engine). The
 * tokenizer is synchronous and costs about 0.3 ms per KB, and it overflows the stack on one very
 * long run without spaces, so long texts are counted in pieces cut at spaces, yielding to the
 * event loop between pieces: a 4 MB prompt never stalls other requests.
 */
const PIECE = 8 * 1024;

let tokenizer: Llama3Tokenizer | undefined;
function llama3(): Llama3Tokenizer {
  // Loaded on first use: its baked vocabulary costs startup time and memory a gateway without limits never needs.
  tokenizer ??= (require('llama3-tokenizer-js') as { default: Llama3Tokenizer }).default;
  return tokenizer;
}

/**
 * Cuts text into pieces of at most `size` characters, preferring a cut just before a space that
 * starts a word (where Llama 3's pre-tokenizer splits anyway, so counts stay exact) and never
 * inside a surrogate pair.
 */
export function splitForCounting(text: string, size = PIECE): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (text.length - start > size) {
    let cut = start + size;
    const wordStart = lastWordStart(text, start + Math.floor(size / 2), cut);
    if (wordStart > start) cut = wordStart;
    else if (/[\uD800-\uDBFF]/.test(text[cut - 1] ?? '')) cut -= 1;
    pieces.push(text.slice(start, cut));
    start = cut;
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

/** Index of the last space in [from, to) that is followed by a non-space, or -1. */
function lastWordStart(text: string, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (/\s/.test(text[i]) && i + 1 < text.length && /\S/.test(text[i + 1])) return i;
  return -1;
}

/**
 * Loads the vocabulary now (about a second of event loop and 45 MB of heap), so no request pays
 * for it: `serve` calls it before listening (the first request long enough for the context check
 * loaded it, holding every other request a second), the access layer when token limits apply.
 */
export function preloadTokenizer(): void {
  llama3();
}

export function countTokensSync(text: string): number {
  if (text.length === 0) return 0;
  return llama3().encode(text, { bos: false, eos: false }).length;
}

/**
 * The text as an engine streams it, one piece per Llama 3 token (a character that spans several
 * byte tokens comes whole with the last of them, as vLLM's detokenizer sends it). For the eval's
 * streamed mode: window mode counts one engine chunk as one token.
 */
export function tokenPieces(text: string): string[] {
  if (text.length === 0) return [];
  const t = llama3();
  const pieces: string[] = [];
  for (const part of splitForCounting(text)) {
    let pending: number[] = [];
    for (const id of t.encode(part, { bos: false, eos: false })) {
      pending.push(id);
      const piece = t.decode(pending);
      // An incomplete UTF-8 sequence decodes to U+FFFD: wait for the bytes that complete it (at most 4).
      if (piece.endsWith('\uFFFD') && pending.length < 4) continue;
      pieces.push(piece);
      pending = [];
    }
    if (pending.length) pieces.push(t.decode(pending));
  }
  return pieces;
}

export async function countTokens(text: string): Promise<number> {
  if (text.length <= PIECE) return countTokensSync(text);
  let total = 0;
  for (const piece of splitForCounting(text)) {
    total += countTokensSync(piece);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}
