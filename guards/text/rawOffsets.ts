/**
 * Offsets in the text a guard scanned, carried back to the text as sent. The scanned text is the
 * sent one after normalize.ts (invisible, bidi, control and tag characters removed, NFKC, stacked
 * marks thinned), so a window's offsets in it sat that much earlier than the window in the sent
 * text, where a reviewer looks (the captured content, the request). Plain ASCII is left as it is;
 * each run of other characters is normalized alone, and its length in the scanned text tells
 * where it went (the run holding an edge of the span, character by character: a character and
 * the marks or jamo NFKC composes with it). When the lengths do not add up to the scanned text's
 * (a step that read across runs), or the text has too many runs to walk at once, nothing is
 * carried back.
 */
import { normalizeSlice } from './normalize';

/** A run of characters normalization leaves as they are (printable ASCII, tab, newline, carriage return), or of others. */
const RUN = /[\t\n\r\x20-\x7E]+|[^\t\n\r\x20-\x7E]+/g;
/** A character and what NFKC may compose with it: combining marks, Hangul vowel and final jamo. */
const CLUSTER = /[\s\S][\p{M}\u1160-\u11FF\uD7B0-\uD7FF]*/gu;
/** Runs of other characters normalized per text at most: a bound on the work for one verdict. */
const MAX_RUNS = 20_000;

export interface Span {
  start: number;
  end: number;
}

/** Pure: `span` ([start, end) in UTF-16 units of `scanned`) in `raw`, or undefined when it cannot be placed. */
export function rawSpan(raw: string, scanned: string, span: Span): Span | undefined {
  if (raw === scanned) return span;
  let rawAt = 0;
  let scannedAt = 0;
  let runs = 0;
  let start: number | undefined;
  let end: number | undefined;
  for (const m of raw.matchAll(RUN)) {
    const run = m[0];
    const plain = /^[\t\n\r\x20-\x7E]/.test(run);
    if (!plain && ++runs > MAX_RUNS) return undefined;
    const length = plain ? run.length : normalizeSlice(run).text.length;
    const holdsStart = start === undefined && span.start < scannedAt + length;
    const holdsEnd = end === undefined && span.end > scannedAt && span.end <= scannedAt + length;
    if (holdsStart || holdsEnd) {
      const placed = placeInRun(run, plain, scannedAt, rawAt, span);
      if (placed === undefined) return undefined;
      if (holdsStart) start = placed.start;
      if (holdsEnd) end = placed.end;
    }
    rawAt += run.length;
    scannedAt += length;
  }
  if (scannedAt !== scanned.length) return undefined;
  if (start === undefined && span.start >= scannedAt) start = rawAt;
  if (end === undefined && span.end <= 0) end = 0;
  return start !== undefined && end !== undefined && start <= end ? { start, end } : undefined;
}

/** The span's edges that fall in one run, character by character; undefined when its characters do not add up to the run. */
function placeInRun(run: string, plain: boolean, scannedAt: number, rawAt: number, span: Span): Partial<Span> | undefined {
  if (plain) return { start: rawAt + Math.max(0, span.start - scannedAt), end: rawAt + Math.min(run.length, span.end - scannedAt) };
  const whole = normalizeSlice(run).text.length;
  let at = scannedAt;
  let raw = rawAt;
  const out: Partial<Span> = {};
  for (const m of run.matchAll(CLUSTER)) {
    const cluster = m[0];
    const length = normalizeSlice(cluster).text.length;
    // Unchanged in length: offsets inside it carry over; otherwise its edges stand for it.
    const same = length === cluster.length;
    if (out.start === undefined && span.start < at + length) out.start = raw + (same ? Math.max(0, span.start - at) : 0);
    if (out.end === undefined && span.end > at && span.end <= at + length) out.end = raw + (same ? span.end - at : cluster.length);
    raw += cluster.length;
    at += length;
  }
  return at - scannedAt === whole ? out : undefined;
}
