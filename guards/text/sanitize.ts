/**
 * Evasion resistance applied before any model sees a text. Each step undoes a known way of
 * hiding text from a classifier while leaving it readable (or executable) for the LLM behind
 * the gateway: compatibility look-alikes, invisible characters that split tokens apart,
 * bidi controls that reorder what is shown, and Unicode tag characters that carry a hidden
 * ASCII message ("ASCII smuggling"). Each step is a pure function, tested on its own.
 */

import type { TextFinding } from './findings';

/** Finding kinds reported in Verdict.categories (no content, only what was seen): findings.ts. */
export type { TextFinding } from './findings';

export interface SanitizedText {
  /** What the model scores. */
  text: string;
  /** ASCII decoded from Unicode tag characters, scored as an extra segment; '' when none. */
  hidden: string;
  findings: TextFinding[];
}

/** Unicode tag block: U+E0000..U+E007F; tag char minus 0xE0000 is the ASCII it stands for. */
const TAG_CHARS = /[\u{E0000}-\u{E007F}]+/gu;

/**
 * Removes tag characters and decodes their printable ASCII. Separate tag runs are joined by a
 * space so that two hidden words never fuse into one token.
 */
export function extractUnicodeTags(text: string): { text: string; hidden: string; found: boolean } {
  let found = false;
  const runs: string[] = [];
  const stripped = text.replace(TAG_CHARS, (run) => {
    found = true;
    let decoded = '';
    for (const ch of run) {
      const ascii = ch.codePointAt(0)! - 0xe0000;
      // 0x01 (language tag) and 0x7F (cancel tag) are markers, not message text.
      if (ascii >= 0x20 && ascii <= 0x7e) decoded += String.fromCharCode(ascii);
    }
    if (decoded.trim()) runs.push(decoded);
    return '';
  });
  return { text: stripped, hidden: runs.join(' '), found };
}

/** Lone surrogates (invalid UTF-16, e.g. from truncated or binary input) become U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function replaceLoneSurrogates(text: string): { text: string; found: boolean } {
  let found = false;
  const out = text.replace(LONE_SURROGATE, () => {
    found = true;
    return '\uFFFD';
  });
  return { text: out, found };
}

/**
 * Characters that render as nothing but split a word into different tokens: zero-width
 * space/non-joiner/joiner, word joiner and the invisible operators, BOM, soft hyphen, combining
 * grapheme joiner, Mongolian vowel separator, Hangul fillers, Khmer inherent vowels, variation
 * selectors. Removing them is what a human reader's eye does.
 */
const INVISIBLE = /[\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200D\u2060-\u2064\u3164\uFE00-\uFE0F\uFEFF\uFFA0\u{E0100}-\u{E01EF}]/gu;
/**
 * Invisible characters that ordinary text uses (ZWJ inside emoji sequences, emoji/text
 * presentation selectors): removed like the rest, but not reported, so a finding means
 * something.
 */
const ORDINARY_INVISIBLE = new Set(['\u200D', '\uFE0E', '\uFE0F']);

export function removeInvisible(text: string): { text: string; found: boolean } {
  let found = false;
  const out = text.replace(INVISIBLE, (ch) => {
    if (!ORDINARY_INVISIBLE.has(ch)) found = true;
    return '';
  });
  return { text: out, found };
}

/** Bidi embedding/override/isolate controls and the directional marks (LRM, RLM, ALM). */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function removeBidiControls(text: string): { text: string; found: boolean } {
  let found = false;
  const out = text.replace(BIDI, () => {
    found = true;
    return '';
  });
  return { text: out, found };
}

/**
 * C0 controls other than tab/newline/carriage return/vertical tab/form feed, DEL, and C1
 * controls: removed rather than turned into spaces, because a space would split the word they
 * were inserted into. Removing U+0000 also keeps text from reaching renamed special-token
 * entries (see textTokenizer.ts).
 */
const CONTROL = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F]/g;

export function removeControlCharacters(text: string): { text: string; found: boolean } {
  let found = false;
  const out = text.replace(CONTROL, () => {
    found = true;
    return '';
  });
  return { text: out, found };
}

/**
 * The text with every invisible, bidi or control character that stands between two visible
 * characters turned into a space; undefined when there is none. The scanned text removes them
 * (they usually split a word into other tokens), but one put where a space belongs glues the words
 * together for the guards ("Give\u200Bme\u200Bstep..." reads "Givemestep...") while the engine's
 * tokenizer keeps every word (a separator token between them). So this reading is scanned beside it
 * (prepareTexts.ts `#spaced`); a guard takes the max. Ordinary invisibles (ZWJ in emoji, variation
 * selectors) are left to the removal.
 */
const SEPARATOR_RUN = new RegExp(`(?<=\\S)(?:${INVISIBLE.source}|${BIDI.source}|${CONTROL.source})+(?=\\S)`, 'gu');

export function spacedSeparators(text: string): string | undefined {
  let found = false;
  const out = text.replace(SEPARATOR_RUN, (run) => {
    if ([...run].every((ch) => ORDINARY_INVISIBLE.has(ch))) return run;
    found = true;
    return ' ';
  });
  return found ? out : undefined;
}

/**
 * The whole chain. Order matters: tags are cut out before anything else touches the astral
 * plane; NFKC runs before removals because compatibility mappings can produce characters the
 * later steps remove.
 */
export function sanitizeText(input: string): SanitizedText {
  const findings: TextFinding[] = [];
  const tags = extractUnicodeTags(input);
  if (tags.found) findings.push('unicode_tags');
  const surrogates = replaceLoneSurrogates(tags.text);
  if (surrogates.found) findings.push('malformed_unicode');
  let text = surrogates.text.normalize('NFKC');
  const invisible = removeInvisible(text);
  if (invisible.found) findings.push('invisible_characters');
  const bidi = removeBidiControls(invisible.text);
  if (bidi.found) findings.push('bidi_controls');
  const control = removeControlCharacters(bidi.text);
  if (control.found) findings.push('control_characters');
  text = control.text;
  return { text, hidden: tags.hidden, findings };
}
