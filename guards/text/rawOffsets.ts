/**
 * Offsets in the text a guard scanned, carried back to the text as sent. The scanned text is the
 * sent one after normalize.ts (invisible, bidi, control and tag characters removed, NFKC,
 * look-alikes in suspect words mapped, stacked marks thinned), so a window's offsets in it sat that
 * much earlier than the window in the sent text, where a reviewer looks (the captured content, the
 * request). Plain ASCII is left as it is; each run of other characters is normalized alone, and
 * where that gives exactly the scanned text's next characters, its length there tells where it went
 * (the run holding an edge of the span, character by character: a character and the marks or jamo
 * NFKC composes with it). A run that reads otherwise alone than in its text (a look-alike mapped
 * only inside a Latin word, an accent composed with the ASCII letter before it) places nothing,
 * and neither does a text with more of such characters before the span's end than MAX_WALKED.
 */
import { normalizeSlice } from './normalize';

/** A run of characters normalization leaves as they are (printable ASCII, tab, newline, carriage return), or of others. */
const RUN = /[\t\n\r\x20-\x7E]+|[^\t\n\r\x20-\x7E]+/g;
/** A character and what NFKC may compose with it: combining marks, Hangul vowel and final jamo. */
const CLUSTER = /[\s\S][\p{M}\u1160-\u11FF\uD7B0-\uD7FF]*/gu;
/** Characters of runs other than plain ASCII normalized for one verdict at most (each a few microseconds): the event loop waits on them. */
const MAX_WALKED = 64 * 1024;

export interface Span {
  start: number;
  end: number;
}

/** Pure: `span` ([start, end) in UTF-16 units of `scanned`) in `raw`, or undefined when it cannot be placed. */
export function rawSpan(raw: string, scanned: string, span: Span): Span | undefined {
  if (raw === scanned) return span;
  if (span.start > span.end || span.start < 0 || span.end > scanned.length) return undefined;
  let rawAt = 0;
  let scannedAt = 0;
  let walked = 0;
  let start: number | undefined;
  let end: number | undefined;
  for (const m of raw.matchAll(RUN)) {
    if (start !== undefined && end !== undefined) break;
    const run = m[0];
    const plain = /^[\t\n\r\x20-\x7E]/.test(run);
    if (!plain && (walked += run.length) > MAX_WALKED) return undefined;
    const read = plain ? run : normalizeSlice(run).text;
    // What this run became in its text must be what it becomes alone, or nothing after it can be placed.
    if (scanned.slice(scannedAt, scannedAt + read.length) !== read) return undefined;
    const holdsStart = start === undefined && span.start < scannedAt + read.length;
    const holdsEnd = end === undefined && span.end <= scannedAt + read.length;
    if (holdsStart || holdsEnd) {
      const placed = plain ? { start: rawAt + Math.max(0, span.start - scannedAt), end: rawAt + Math.max(0, span.end - scannedAt) } : placeInRun(run, read, scannedAt, rawAt, span);
      if (placed === undefined) return undefined;
      if (holdsStart) start = placed.start;
      if (holdsEnd) end = placed.end;
    }
    rawAt += run.length;
    scannedAt += read.length;
  }
  if (start === undefined && span.start === scannedAt && scannedAt === scanned.length) start = rawAt;
  if (end === undefined && span.end === scannedAt && scannedAt === scanned.length) end = rawAt;
  return start !== undefined && end !== undefined && start <= end ? { start, end } : undefined;
}

/** The span's edges that fall in one non-ASCII run, character by character; undefined when its characters alone do not read as the run does. */
function placeInRun(run: string, read: string, scannedAt: number, rawAt: number, span: Span): Partial<Span> | undefined {
  let at = 0;
  let raw = rawAt;
  const out: Partial<Span> = {};
  for (const m of run.matchAll(CLUSTER)) {
    const cluster = m[0];
    const piece = normalizeSlice(cluster).text;
    if (read.slice(at, at + piece.length) !== piece) return undefined;
    // Unchanged: offsets inside it carry over; otherwise its edges stand for it.
    const same = piece === cluster;
    const from = scannedAt + at;
    if (out.start === undefined && span.start < from + piece.length) out.start = raw + (same ? Math.max(0, span.start - from) : 0);
    if (out.end === undefined && span.end <= from + piece.length) out.end = raw + (same ? Math.max(0, span.end - from) : span.end <= from ? 0 : cluster.length);
    raw += cluster.length;
    at += piece.length;
  }
  return at === read.length ? out : undefined;
}
