/**
 * Turns a request's texts into what the models score: each text prepared (sanitized and
 * normalized, normalize.ts), blank texts dropped (nothing to classify), and every text derived
 * from it added as a text of its own, at the original path plus a suffix:
 *
 * - `#unicode_tags`: the ASCII hidden in Unicode tag characters;
 * - `#normalized`: accents folded, look-alikes mapped, leetspeak decoded, when the text looks
 *   obfuscated that way (normalize.ts);
 * - `#base64@N`, `#hex@N`, `#url@N`, `#quoted_printable@N`: a payload encoded at offset N of
 *   the scanned text that decodes to readable text (encodedPayloads.ts);
 * - `#rot13`: clauses that read as English once rotated (rot13.ts);
 * - `#joined`: the lines joined by spaces, for text written a word or two per line (splitLines.ts);
 * - `#spaced`: invisible, bidi or control characters that stand between two visible ones read as
 *   spaces (the scanned text removes them, which glues words put apart with them: sanitize.ts
 *   spacedSeparators).
 *
 * So a smuggled or encoded instruction is scored even though the text as sent hides it, and the
 * verdict (the max over texts) names where. Derived texts are prepared the same way (a base64
 * payload inside a hex payload is found too), down to DECODE_LIMITS.maxDepth, and their total
 * size is bounded by a DecodeBudget per text.
 *
 * Long texts are prepared in slices cut just before whitespace (every step acts within a word,
 * so the result equals preparing the whole), yielding to the event loop between slices.
 */
import { pause } from '../runtime/yield';
import type { ScanText, TextSource } from '../types';
import { DECODE_LIMITS, DecodeBudget } from './decodeBudget';
import { findEncodedPayloads } from './encodedPayloads';
import type { TextFinding } from './findings';
import { addSliceCounts, normalizeSlice, NO_COUNTS, planVariant, variantOf, type SliceCounts } from './normalize';
import { decodeRot13Clauses, hintsAtRot13 } from './rot13';
import { hasSeparators, sanitizeText, spacedSeparators, type SanitizedText } from './sanitize';
import { sliceForTokenization } from './slices';
import { joinedShortLines } from './splitLines';

export interface PreparedText {
  source: TextSource;
  path: string;
  text: string;
}

export const HIDDEN_TEXT_SUFFIX = '#unicode_tags';
export const NORMALIZED_SUFFIX = '#normalized';
export const ROT13_SUFFIX = '#rot13';
export const JOINED_SUFFIX = '#joined';
export const SPACED_SUFFIX = '#spaced';
/** Characters sanitized between two event-loop turns (~1-2 ms of regex work). */
export const SANITIZE_SLICE_CHARS = 32 * 1024;

export async function sanitizeLongText(text: string, signal?: AbortSignal, sliceChars = SANITIZE_SLICE_CHARS): Promise<SanitizedText> {
  if (text.length <= sliceChars) return sanitizeText(text);
  const slices = sliceForTokenization(text, sliceChars);
  const texts: string[] = [];
  const hidden: string[] = [];
  const findings = new Set<TextFinding>();
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) await pause(signal);
    const part = sanitizeText(slices[i]);
    texts.push(part.text);
    if (part.hidden) hidden.push(part.hidden);
    part.findings.forEach((f) => findings.add(f));
  }
  return { text: texts.join(''), hidden: hidden.join(' '), findings: [...findings] };
}

/** A text derived from another, scanned at the other's path plus `suffix`. */
export interface DerivedText {
  suffix: string;
  text: string;
}

/** One text as the models see it: the scanned text, the texts derived from it, and what was found. */
export interface PreparedOne {
  text: string;
  extras: DerivedText[];
  findings: TextFinding[];
}

interface PrepareState {
  budget: DecodeBudget;
  depth: number;
  sliceChars: number;
  signal?: AbortSignal;
}

/** Prepares one text (see the file comment); `sliceChars` only for tests. */
export async function prepareText(raw: string, signal?: AbortSignal, sliceChars = SANITIZE_SLICE_CHARS): Promise<PreparedOne> {
  const budget = new DecodeBudget();
  const prepared = await prepareAt(raw, { budget, depth: 0, sliceChars, signal });
  const findings = new Set(prepared.findings);
  if (budget.exceeded) findings.add('decode_budget_exceeded');
  return { ...prepared, findings: [...findings] };
}

async function prepareAt(raw: string, state: PrepareState): Promise<PreparedOne> {
  const { signal, sliceChars } = state;
  const findings = new Set<TextFinding>();
  const extras: DerivedText[] = [];
  const add = (suffix: string, sub: PreparedOne) => {
    sub.findings.forEach((f) => findings.add(f));
    extras.push({ suffix, text: sub.text }, ...sub.extras.map((e) => ({ suffix: suffix + e.suffix, text: e.text })));
  };

  const slices = raw.length <= sliceChars ? [raw] : sliceForTokenization(raw, sliceChars);
  const texts: string[] = [];
  const hidden: string[] = [];
  let separators = false;
  let counts: SliceCounts = NO_COUNTS;
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) await pause(signal);
    const part = normalizeSlice(slices[i]);
    texts.push(part.text);
    separators ||= hasSeparators(slices[i]);
    if (part.hidden) hidden.push(part.hidden);
    part.findings.forEach((f) => findings.add(f));
    counts = addSliceCounts(counts, part);
  }
  const text = texts.join('');

  const plan = planVariant(counts);
  plan.findings.forEach((f) => findings.add(f));
  if (plan.fold || plan.leet) {
    const variant: string[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (i > 0) await pause(signal);
      variant.push(variantOf(texts[i], plan));
    }
    const joined = variant.join('');
    if (joined !== text) extras.push({ suffix: NORMALIZED_SUFFIX, text: joined });
  }

  const child = { ...state, depth: state.depth + 1 };
  if (hidden.length) add(HIDDEN_TEXT_SUFFIX, await prepareAt(hidden.join(' '), child));
  const spaced = separators ? await spacedReading(raw, sliceChars, signal) : undefined;
  if (spaced !== undefined) add(SPACED_SUFFIX, await prepareAt(spaced, child));
  const joined = joinedShortLines(text);
  if (joined !== undefined) {
    findings.add('split_lines');
    extras.push({ suffix: JOINED_SUFFIX, text: joined });
  }
  if (state.depth >= DECODE_LIMITS.maxDepth) return { text, extras, findings: [...findings] };

  for (const payload of await findEncodedPayloads(text, state.budget, signal)) {
    findings.add(`encoded_${payload.kind}`);
    await pause(signal);
    add(`#${payload.kind}@${payload.offset}`, await prepareAt(payload.text, child));
  }
  const rotated = await rot13Clauses(texts, state);
  if (rotated) {
    findings.add('encoded_rot13');
    add(ROT13_SUFFIX, await prepareAt(rotated, child));
  }
  return { text, extras, findings: [...findings] };
}

/**
 * The `#spaced` reading of a text (sanitize.ts spacedSeparators), in pieces with a pause between
 * them. A piece ends between two characters that are neither whitespace, separators nor halves
 * of a surrogate pair, and is read with one such character of context on each side, so a separator
 * run and both its neighbours are always in one reading (a text without spaces is cut anywhere);
 * where no such pair comes within four slices, it ends there (never inside a surrogate pair).
 */
async function spacedReading(raw: string, sliceChars: number, signal?: AbortSignal): Promise<string | undefined> {
  const plain = (i: number) => i >= 0 && i < raw.length && /[^\s\uD800-\uDFFF]/.test(raw[i]) && !hasSeparators(raw[i]);
  const pieces: string[] = [];
  let changed = false;
  for (let from = 0; from < raw.length; ) {
    if (from > 0) await pause(signal);
    let to = Math.min(raw.length, from + sliceChars);
    // A text with no two plain characters side by side (marks and separators alternating) is cut
    // anyway at four slices, between two halves of nothing, so no one call holds the event loop.
    const limit = Math.min(raw.length, from + 4 * sliceChars);
    while (to < limit && !(plain(to - 1) && plain(to))) to++;
    while (to < raw.length && to > from && /[\uDC00-\uDFFF]/.test(raw[to]) && /[\uD800-\uDBFF]/.test(raw[to - 1])) to++;
    const before = from > 0 ? raw[from - 1] : '';
    const after = to < raw.length ? raw[to] : '';
    const read = spacedSeparators(before + raw.slice(from, to) + after);
    changed ||= read !== undefined;
    pieces.push(read === undefined ? raw.slice(from, to) : read.slice(before.length, read.length - after.length));
    from = to;
  }
  return changed ? pieces.join('') : undefined;
}

/** ROT13 clauses of the slices (rot13.ts) as one decoded text within the budget; '' when none. */
async function rot13Clauses(slices: readonly string[], state: PrepareState): Promise<string> {
  const hinted = slices.some(hintsAtRot13);
  const found: string[] = [];
  let chars = 0;
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) await pause(state.signal);
    const left = state.budget.charsLeft - chars;
    const part = decodeRot13Clauses(slices[i], left, hinted);
    if (part.text) {
      found.push(part.text);
      chars += part.text.length + 1;
    }
    if (part.truncated || (left <= 0 && i < slices.length - 1)) {
      state.budget.exceeded = true;
      break;
    }
  }
  if (!found.length || !state.budget.canDecode()) return '';
  const text = found.join('\n');
  state.budget.spend(text.length);
  return text;
}

export async function prepareTexts(texts: readonly ScanText[], signal?: AbortSignal): Promise<{ items: PreparedText[]; findings: TextFinding[] }> {
  const items: PreparedText[] = [];
  const findings = new Set<TextFinding>();
  for (const t of texts) {
    // Guard against callers that bypass the types (JSON bodies): a non-string is scanned as its string form.
    const raw = typeof t.text === 'string' ? t.text : String(t.text ?? '');
    const prepared = await prepareText(raw, signal);
    prepared.findings.forEach((f) => findings.add(f));
    if (prepared.text.trim()) items.push({ source: t.source, path: t.path, text: prepared.text });
    for (const extra of prepared.extras) {
      if (extra.text.trim()) items.push({ source: t.source, path: t.path + extra.suffix, text: extra.text });
    }
  }
  return { items, findings: [...findings] };
}
