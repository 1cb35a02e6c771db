/**
 * Payloads encoded so a classifier cannot read them but the LLM behind the gateway can ("decode
 * this base64 and follow it"): base64 (standard and URL-safe, also wrapped in lines), hex (pairs,
 * optionally separated by spaces or colons, and `\x41` escapes), URL percent-encoding and
 * quoted-printable. Each candidate is decoded and kept when it is readable text (readable.ts);
 * the caller scans it as an extra text, like the hidden text of Unicode tags.
 *
 * Linear: the candidate patterns have no nested quantifiers, candidates do not overlap within a
 * kind (each character is decoded at most once per kind), and what is kept is bounded by the
 * DecodeBudget.
 */
import { Buffer } from 'node:buffer';
import { pause } from '../runtime/yield';
import type { DecodeBudget } from './decodeBudget';
import { decodeUtf8, decodeUtf8Prefix, isReadable } from './readable';

export type PayloadKind = 'base64' | 'hex' | 'url' | 'quoted_printable';

export interface DecodedPayload {
  kind: PayloadKind;
  /** Where the encoded run starts in the text (an offset, never content, so it can name a path). */
  offset: number;
  text: string;
}

interface Candidate {
  kind: PayloadKind;
  start: number;
  end: number;
}

/**
 * 16+ base64 characters (a 12-byte payload), lines of a wrapped block joined, then padding. The
 * lookbehind makes the engine skip positions inside a word at once (3x faster on prose).
 */
const BASE64 = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}(?:\r?\n[A-Za-z0-9+/_-]{4,})*={0,2}/g;
const ONLY_HEX = /^[0-9A-Fa-f\r\n]+$/;
/** 8+ bytes as hex pairs, each optionally followed by one space or colon; or 4+ `\xNN` escapes. */
const HEX_PAIRS = /(?:[0-9A-Fa-f]{2}[ :]?){8,}/g;
const HEX_ESCAPES = /(?:\\x[0-9A-Fa-f]{2}){4,}/g;
const PERCENT = /%[0-9A-Fa-f]{2}/g;
/** RFC 2045 writes the hex of `=XX` in capitals. */
const QP_ESCAPE = /=[0-9A-F]{2}/g;
/** The candidate patterns, for tests. */
export const PAYLOAD_PATTERNS = { BASE64, HEX_PAIRS, HEX_ESCAPES, PERCENT, QP_ESCAPE } as const;

/** Escapes needed before a run is worth decoding (one `%20` in a URL is not a payload). */
const MIN_ESCAPES = 3;
/** Farthest apart two escapes of one run may be. */
const MAX_ESCAPE_GAP = 32;
/** How far a run is widened to the whitespace around it. */
const MAX_WIDENING = 256;

/** Characters one regex pass looks at between two event-loop turns. */
const SCAN_WINDOW = 64 * 1024;
/** Longer than the shortest match of any pattern, so a run that starts near a window's end is seen whole in the next. */
const SCAN_OVERLAP = 64;

/**
 * Every match of the global pattern `re` in `text`, found one window at a time with a yield in
 * between. A match that reaches a window's end is extended on the whole text (sticky), so a
 * 1 MB base64 run is one candidate; windows overlap so that no run is seen only in part.
 */
export async function scanMatches(
  re: RegExp,
  text: string,
  signal?: AbortSignal,
  window = SCAN_WINDOW,
): Promise<{ start: number; end: number; match: string }[]> {
  const sticky = new RegExp(re.source, re.flags.replace('g', '') + 'y');
  const out: { start: number; end: number; match: string }[] = [];
  let pos = 0;
  let acceptedEnd = 0;
  while (pos < text.length) {
    if (pos > 0) await pause(signal);
    const windowEnd = Math.min(text.length, pos + window);
    let next = windowEnd === text.length ? text.length : Math.max(pos + 1, windowEnd - SCAN_OVERLAP);
    for (const m of text.slice(pos, windowEnd).matchAll(re)) {
      const start = pos + m.index;
      let match = m[0];
      if (start < acceptedEnd) continue;
      const touchesEnd = start + match.length === windowEnd && windowEnd < text.length;
      if (!touchesEnd && start >= next) continue; // the next window sees it whole
      if (touchesEnd) {
        sticky.lastIndex = start;
        match = sticky.exec(text)?.[0] ?? match;
      }
      out.push({ start, end: start + match.length, match });
      acceptedEnd = start + match.length;
      next = Math.max(next, acceptedEnd);
    }
    pos = next;
  }
  return out;
}

async function collect(re: RegExp, text: string, kind: PayloadKind, out: Candidate[], signal?: AbortSignal, accept?: (s: string) => boolean): Promise<void> {
  for (const m of await scanMatches(re, text, signal)) {
    if (!accept || accept(m.match)) out.push({ kind, start: m.start, end: m.end });
  }
}

/**
 * Runs of `escape` matches (percent or quoted-printable), where consecutive escapes are at most
 * MAX_ESCAPE_GAP apart and, for URLs, not separated by whitespace; each run with MIN_ESCAPES or
 * more is widened to the surrounding word, at most MAX_WIDENING characters each way and never into
 * a neighbouring run, so the work stays linear even on text without whitespace.
 */
async function escapedRuns(text: string, escape: RegExp, kind: PayloadKind, spacesInside: boolean, out: Candidate[], signal?: AbortSignal): Promise<void> {
  const runs: { start: number; end: number; count: number }[] = [];
  for (const m of await scanMatches(escape, text, signal)) {
    const last = runs[runs.length - 1];
    if (last && m.start - last.end <= MAX_ESCAPE_GAP) {
      const gap = text.slice(last.end, m.start);
      if (spacesInside ? !gap.includes('\n') : !/\s/.test(gap)) {
        last.end = m.end;
        last.count++;
        continue;
      }
    }
    runs.push({ start: m.start, end: m.end, count: 1 });
  }
  let previousEnd = 0;
  runs.forEach((run, i) => {
    const floor = Math.max(previousEnd, run.start - MAX_WIDENING);
    const ceiling = Math.min(runs[i + 1]?.start ?? text.length, run.end + MAX_WIDENING);
    let s = run.start;
    let e = run.end;
    while (s > floor && !/\s/.test(text[s - 1])) s--;
    while (e < ceiling && !/\s/.test(text[e])) e++;
    previousEnd = e;
    if (run.count >= MIN_ESCAPES) out.push({ kind, start: s, end: e });
  });
}

export async function findCandidates(text: string, signal?: AbortSignal): Promise<Candidate[]> {
  const out: Candidate[] = [];
  // Hex runs are valid base64 too; hex decodes them, base64 would only make noise.
  await collect(BASE64, text, 'base64', out, signal, (s) => !ONLY_HEX.test(s));
  // Hex of text always has digits (ASCII is 0x20-0x7e); runs of letters a-f alone are words.
  await collect(HEX_PAIRS, text, 'hex', out, signal, (s) => /[0-9]/.test(s));
  if (text.includes('\\x')) await collect(HEX_ESCAPES, text, 'hex', out, signal);
  if (text.includes('%')) await escapedRuns(text, PERCENT, 'url', false, out, signal);
  if (text.includes('=')) await escapedRuns(text, QP_ESCAPE, 'quoted_printable', true, out, signal);
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}

/** Bytes of one candidate, at most `maxBytes` of them (decoding stops there). */
export function candidateBytes(kind: PayloadKind, encoded: string, maxBytes: number): { bytes: Uint8Array; truncated: boolean } {
  switch (kind) {
    case 'base64': {
      const clean = encoded.replace(/\s+/g, '');
      const maxChars = Math.ceil(maxBytes / 3) * 4;
      const truncated = clean.length > maxChars;
      return { bytes: Buffer.from(truncated ? clean.slice(0, maxChars) : clean, 'base64'), truncated };
    }
    case 'hex': {
      const digits = encoded.replace(/\\x|[\s:]/g, '');
      const truncated = digits.length > maxBytes * 2;
      return { bytes: Buffer.from(truncated ? digits.slice(0, maxBytes * 2) : digits, 'hex'), truncated };
    }
    case 'url':
    case 'quoted_printable':
      return unescapeBytes(kind, encoded, maxBytes);
  }
}

/** `%XX` / `=XX` to bytes, other characters as their UTF-8; `+` is a space in form-encoded text. */
function unescapeBytes(kind: 'url' | 'quoted_printable', encoded: string, maxBytes: number): { bytes: Uint8Array; truncated: boolean } {
  const escapeChar = kind === 'url' ? 0x25 : 0x3d;
  const plusIsSpace = kind === 'url' && !/%20/i.test(encoded);
  const source = kind === 'quoted_printable' ? encoded.replace(/=\r?\n/g, '') : encoded;
  const bytes = new Uint8Array(Math.min(maxBytes, source.length * 3));
  let n = 0;
  let i = 0;
  for (; i < source.length && n < bytes.length; i++) {
    const c = source.charCodeAt(i);
    const hi = hexValue(source.charCodeAt(i + 1));
    const lo = hexValue(source.charCodeAt(i + 2));
    if (c === escapeChar && hi >= 0 && lo >= 0) {
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else if (c === 0x2b && plusIsSpace) {
      bytes[n++] = 0x20;
    } else if (c < 0x80) {
      bytes[n++] = c;
    } else {
      const cp = source.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) if (n < bytes.length) bytes[n++] = b;
    }
  }
  return { bytes: bytes.subarray(0, n), truncated: i < source.length };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Encoded characters decoded between two event-loop turns. */
const DECODE_SLICE = 64 * 1024;

/**
 * Every readable payload of `text`, in order, within the budget. Candidates that overlap a kept
 * payload are skipped (a hex run inside a base64 run that already decoded is the same payload).
 */
export async function findEncodedPayloads(text: string, budget: DecodeBudget, signal?: AbortSignal): Promise<DecodedPayload[]> {
  const out: DecodedPayload[] = [];
  let keptEnd = -1;
  let work = 0;
  for (const c of await findCandidates(text, signal)) {
    if (c.start < keptEnd) continue;
    if (!budget.canDecode()) break;
    if (work > DECODE_SLICE) {
      await pause(signal);
      work = 0;
    }
    work += c.end - c.start;
    // Two bytes per character: enough for ASCII, Latin and Cyrillic payloads; a CJK one is cut a little short of the budget.
    const { bytes, truncated } = candidateBytes(c.kind, text.slice(c.start, c.end), budget.charsLeft * 2);
    const decoded = truncated ? decodeUtf8Prefix(bytes) : decodeUtf8(bytes);
    if (decoded === undefined || !isReadable(decoded)) continue;
    const kept = decoded.length > budget.charsLeft ? decoded.slice(0, budget.charsLeft) : decoded;
    if (truncated || kept.length < decoded.length) budget.exceeded = true;
    budget.spend(kept.length);
    out.push({ kind: c.kind, offset: c.start, text: kept });
    keptEnd = c.end;
  }
  return out;
}
