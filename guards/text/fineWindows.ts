/**
 * Fine-grained windows: besides its 512-token segments, a long text is scored in small windows
 * of whole lines and sentences, so one instruction inside a long document (or a jailbreak
 * followed by padding) is scored with little text around it instead of being diluted. The
 * verdict keeps the max over segments and windows, and names the worst window by offsets.
 *
 * Mirrors guards/training/fine_windows.py exactly (the bundled models are trained on these
 * windows; test/unit/guards/fineWindows.test.ts checks a fixture that file writes):
 * - a unit ends after a newline, after `.`, `!` or `?` followed by whitespace, and after
 *   `。`, `！` or `？`; units are trimmed of whitespace (space, tab, newline, CR, FF, VT), empty
 *   ones dropped;
 * - consecutive units are packed into windows of at most `maxTokens` tokens, each window
 *   starting at the first unit past half of the previous one; a unit longer than `maxTokens` is
 *   cut into token chunks every `maxTokens / 2` tokens;
 * - a text whose units hold at most `maxTokens` tokens in all has no windows.
 * A chunk's offsets are estimated (chunkSpan); a window of whole units names exactly them.
 */

export interface CharSpan {
  start: number;
  end: number;
}

/** A run of whole units [firstUnit, endUnit), or a token chunk of one over-long unit. */
export interface PackedWindow {
  firstUnit: number;
  endUnit: number;
  chunk?: { start: number; end: number };
}

/** A scored window: its characters in the scanned text and its token ids. */
export interface FineWindow extends CharSpan {
  ids: number[];
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v']);
const SENTENCE_END = new Set(['.', '!', '?']);
const CJK_SENTENCE_END = new Set(['\u3002', '\uff01', '\uff1f']);

/** Character spans of the text's lines and sentences (UTF-16 offsets), trimmed, non-empty. */
export function textUnits(text: string): CharSpan[] {
  const raw: CharSpan[] = [];
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text[i];
    const endsHere = ch === '\n' || CJK_SENTENCE_END.has(ch) || (SENTENCE_END.has(ch) && i + 1 < n && WHITESPACE.has(text[i + 1]));
    if (endsHere) {
      raw.push({ start, end: i + 1 });
      start = i + 1;
    }
  }
  if (start < n) raw.push({ start, end: n });
  const units: CharSpan[] = [];
  for (let { start: s, end: e } of raw) {
    while (s < e && WHITESPACE.has(text[s])) s++;
    while (e > s && WHITESPACE.has(text[e - 1])) e--;
    if (e > s) units.push({ start: s, end: e });
  }
  return units;
}

/** Windows over units with these token counts (see the file comment for the rule). */
export function packWindows(unitLengths: readonly number[], maxTokens: number): PackedWindow[] {
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) throw new Error(`window size must be a positive integer, got ${maxTokens}`);
  const out: PackedWindow[] = [];
  const n = unitLengths.length;
  const half = Math.max(1, Math.floor(maxTokens / 2));
  let i = 0;
  while (i < n) {
    const len = unitLengths[i];
    if (len > maxTokens) {
      for (let t = 0; ; t += half) {
        out.push({ firstUnit: i, endUnit: i + 1, chunk: { start: t, end: Math.min(t + maxTokens, len) } });
        if (t + maxTokens >= len) break;
      }
      i++;
      continue;
    }
    let j = i;
    let total = 0;
    while (j < n && unitLengths[j] <= maxTokens && total + unitLengths[j] <= maxTokens) total += unitLengths[j++];
    out.push({ firstUnit: i, endUnit: j });
    if (j >= n) break;
    // The next window starts at the first unit past half of this one (at least one unit on).
    let k = i + 1;
    let acc = unitLengths[i];
    while (k < j && acc * 2 < total) acc += unitLengths[k++];
    i = k;
  }
  return out;
}

/** The windows of a text given its units and their token ids; [] when it needs none. */
export function assembleWindows(units: readonly CharSpan[], unitIds: readonly (readonly number[])[], maxTokens: number): FineWindow[] {
  const lengths = unitIds.map((ids) => ids.length);
  if (lengths.reduce((a, b) => a + b, 0) <= maxTokens) return [];
  return packWindows(lengths, maxTokens).map((w) => {
    if (w.chunk) return { ...chunkSpan(units[w.firstUnit], lengths[w.firstUnit], w.chunk), ids: unitIds[w.firstUnit].slice(w.chunk.start, w.chunk.end) };
    return { start: units[w.firstUnit].start, end: units[w.endUnit - 1].end, ids: unitIds.slice(w.firstUnit, w.endUnit).flat() };
  });
}

/**
 * The characters of a token chunk of one over-long unit (a minified JSON tool result, a long
 * line): in proportion to its tokens, widened by one token's share of characters on each side,
 * within the unit. Estimated, since the tokenizer gives no offsets, but a reviewer is pointed at
 * the part of a 4,000-character line that scored, not at the whole line.
 */
export function chunkSpan(unit: CharSpan, unitTokens: number, chunk: { start: number; end: number }): CharSpan {
  const chars = unit.end - unit.start;
  const perToken = chars / unitTokens;
  return {
    start: unit.start + Math.max(0, Math.floor((chunk.start - 1) * perToken)),
    end: unit.start + Math.min(chars, Math.ceil((chunk.end + 1) * perToken)),
  };
}
