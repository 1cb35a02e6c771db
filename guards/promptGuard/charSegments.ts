/**
 * Segments and fine windows by characters, for Prompt Guard on a classification server (TEI,
 * vLLM): the server tokenizes, so the gateway cannot cut at token 510 as the local path does.
 * It cuts by an estimate that errs long instead: letters 0.28 tokens each (English runs at
 * about 0.25 with DeBERTa's SentencePiece), digits 0.5, other ASCII 0.6, spaces 0.05, and any
 * other character a whole token (CJK, emoji, accented letters split into pieces). A segment is
 * estimated at most SEGMENT_TOKENS; a text denser than the estimate (long hex runs) can still
 * exceed the window, and the server's "too long" answer makes the guard split that segment
 * again (remote.ts), never truncate it.
 *
 * The layout mirrors text/segments.ts and text/fineWindows.ts: segments start every half
 * segment, so anything that straddles a boundary is whole in one of them; fine windows are whole
 * lines and sentences (textUnits, packWindows) sized by the same estimate. Cuts prefer the last
 * whitespace near the limit, and depend only on the text before them, so a text that grows at its
 * end (a chat's per-source join) keeps its earlier segments and windows, and their cached scores.
 */
import { type CharSpan, packWindows, textUnits } from '../text/fineWindows';

/** Estimated tokens per segment: under the 512-token window with [CLS]/[SEP] and room for the estimate's error. */
export const SEGMENT_TOKENS = 480;

/** Estimated tokens of one UTF-16 code unit (a surrogate pair counts once, on its high half). */
function cost(code: number): number {
  if (code >= 0xdc00 && code <= 0xdfff) return 0;
  if (code >= 0x80) return 1;
  if ((code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a)) return 0.28;
  if (code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d) return 0.05;
  if (code >= 0x30 && code <= 0x39) return 0.5;
  return 0.6;
}

export function estimateTokens(text: string, from = 0, to = text.length): number {
  let n = 0;
  for (let i = from; i < to; i++) n += cost(text.charCodeAt(i));
  return n;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d || code === 0x0c || code === 0x0b;
}

/**
 * Consecutive pieces of [from, to), each estimated at most `budget` tokens: cut at the last
 * whitespace in the piece's last quarter, else where the budget runs out (never inside a
 * surrogate pair).
 */
export function pieces(text: string, budget: number, from = 0, to = text.length): CharSpan[] {
  const out: CharSpan[] = [];
  let start = from;
  while (start < to) {
    let spent = 0;
    let i = start;
    while (i < to) {
      const c = cost(text.charCodeAt(i));
      if (spent + c > budget && i > start) break;
      spent += c;
      i++;
    }
    let end = i;
    if (end < to) {
      // Never split a surrogate pair.
      const code = text.charCodeAt(end);
      if (code >= 0xdc00 && code <= 0xdfff && end - 1 > start) end--;
      for (let k = end; k > start + Math.floor((end - start) * 0.75); k--) {
        if (isSpace(text.charCodeAt(k - 1))) {
          end = k;
          break;
        }
      }
    }
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** Half-overlapping segments of the text (the whole text when it fits one); none for an empty text. */
export function charSegments(text: string, maxTokens = SEGMENT_TOKENS): CharSpan[] {
  if (text.length === 0) return [];
  if (estimateTokens(text) <= maxTokens) return [{ start: 0, end: text.length }];
  const halves = pieces(text, maxTokens / 2);
  if (halves.length === 1) return halves;
  const out: CharSpan[] = [];
  for (let i = 0; i + 1 < halves.length; i++) out.push({ start: halves[i]!.start, end: halves[i + 1]!.end });
  return out;
}

/**
 * Fine windows (text/fineWindows.ts's rule, sizes estimated): whole lines and sentences packed
 * into windows of at most `maxTokens` estimated tokens, each starting past half of the previous;
 * a unit longer than that is cut into half-overlapping pieces. None when the text fits one window.
 */
export function charWindows(text: string, maxTokens: number): CharSpan[] {
  if (!(maxTokens > 0)) return [];
  const units = textUnits(text);
  const lengths = units.map((u) => Math.max(1, Math.ceil(estimateTokens(text, u.start, u.end))));
  if (lengths.reduce((a, b) => a + b, 0) <= maxTokens) return [];
  const out: CharSpan[] = [];
  const seenLongUnit = new Set<number>();
  for (const w of packWindows(lengths, maxTokens)) {
    if (!w.chunk) {
      out.push({ start: units[w.firstUnit]!.start, end: units[w.endUnit - 1]!.end });
      continue;
    }
    // packWindows lists an over-long unit's token chunks one by one; cut it by characters once.
    if (seenLongUnit.has(w.firstUnit)) continue;
    seenLongUnit.add(w.firstUnit);
    const unit = units[w.firstUnit]!;
    const halves = pieces(text, maxTokens / 2, unit.start, unit.end);
    if (halves.length === 1) out.push(halves[0]!);
    for (let i = 0; i + 1 < halves.length; i++) out.push({ start: halves[i]!.start, end: halves[i + 1]!.end });
  }
  return out;
}

/** The offset where the estimate of text[0, offset) reaches `tokens`, moved back to a whitespace within the last tenth (never into a surrogate pair). */
export function offsetAtTokens(text: string, tokens: number): number {
  let spent = 0;
  let i = 0;
  while (i < text.length && spent + cost(text.charCodeAt(i)) <= tokens) spent += cost(text.charCodeAt(i++));
  if (i >= text.length) return text.length;
  const floor = Math.floor(i * 0.9);
  for (let k = i; k > floor; k--) if (isSpace(text.charCodeAt(k - 1))) return k;
  const code = text.charCodeAt(i);
  return code >= 0xdc00 && code <= 0xdfff && i > 0 ? i - 1 : i;
}
