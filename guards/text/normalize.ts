/**
 * The text a model scores, and the `#normalized` variant scanned beside it when the text looks
 * obfuscated. Two outputs because the two aims differ:
 *
 * - The scanned text changes only what no honest text contains: sanitize.ts (NFKC, invisible,
 *   bidi and control characters, tag characters), look-alike letters in suspect words
 *   (homoglyphs.ts) and stacks of combining marks (diacritics.ts). French, Russian or Vietnamese
 *   text is scanned exactly as written.
 * - The variant also folds every accent on Latin letters (`ïgnörë` -> `ignore`), maps every
 *   look-alike in words with ASCII letters, and decodes leetspeak (`1gn0r3` -> `ignore`). It
 *   would damage honest text, so it is built only when accents or leetspeak look like
 *   obfuscation, and only ever scanned in addition (a guard takes the max over texts).
 *
 * Every step is word-local, so a long text is done in slices cut at whitespace; the counts that
 * decide about the variant are summed over the slices.
 */
import { hasConfusable, mapAllConfusables } from './confusables';
import { accentsLookObfuscated, addCounts, countAccents, foldDiacritics, removeStackedMarks, type AccentCounts } from './diacritics';
import type { TextFinding } from './findings';
import { mapHomoglyphs } from './homoglyphs';
import { countLeet, decodeLeet, looksLeet, type LeetCounts } from './leetspeak';
import { sanitizeText } from './sanitize';

export interface NormalizedSlice {
  /** What the model scores. */
  text: string;
  /** ASCII decoded from Unicode tag characters ('' when none). */
  hidden: string;
  findings: TextFinding[];
  accents: AccentCounts;
  leet: LeetCounts;
}

export function normalizeSlice(input: string): NormalizedSlice {
  const clean = sanitizeText(input);
  const findings = [...clean.findings];
  const glyphs = mapHomoglyphs(clean.text);
  if (glyphs.mixedScripts) findings.push('mixed_scripts');
  if (glyphs.mapped) findings.push('homoglyphs');
  const marks = removeStackedMarks(glyphs.text);
  if (marks.found) findings.push('combining_marks');
  return { text: marks.text, hidden: clean.hidden, findings, accents: countAccents(marks.text), leet: countLeet(marks.text) };
}

export interface SliceCounts {
  accents: AccentCounts;
  leet: LeetCounts;
}

export function addSliceCounts(a: SliceCounts, b: SliceCounts): SliceCounts {
  return { accents: addCounts(a.accents, b.accents), leet: { leetTokens: a.leet.leetTokens + b.leet.leetTokens, words: a.leet.words + b.leet.words } };
}

export const NO_COUNTS: SliceCounts = { accents: { letters: 0, accented: 0, residual: 0 }, leet: { leetTokens: 0, words: 0 } };

export interface VariantPlan {
  fold: boolean;
  leet: boolean;
  findings: TextFinding[];
}

/** Whether the `#normalized` variant is worth building, and what the counts say about the text. */
export function planVariant(counts: SliceCounts): VariantPlan {
  const fold = accentsLookObfuscated(counts.accents);
  const leet = looksLeet(counts.leet);
  const findings: TextFinding[] = [];
  if (counts.accents.residual >= 3) findings.push('combining_marks');
  if (leet) findings.push('leetspeak');
  return { fold, leet, findings };
}

const WORD_WITH_ASCII_AND_OTHER = /[\p{L}\p{M}\p{N}]+/gu;
const NON_ASCII = /[^\x00-\x7F]/;

/** The variant of one slice of scanned text (see the file comment). */
export function variantOf(text: string, plan: Pick<VariantPlan, 'leet'>): string {
  let out = foldDiacritics(text);
  if (NON_ASCII.test(out) && hasConfusable(out)) {
    out = out.replace(WORD_WITH_ASCII_AND_OTHER, (word) => (NON_ASCII.test(word) && /[A-Za-z]/.test(word) ? mapAllConfusables(word) : word));
  }
  return plan.leet ? decodeLeet(out) : out;
}
