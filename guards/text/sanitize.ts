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
 * The text with every invisible, bidi, control or tag character that stands between two visible
 * characters turned into a space; undefined when there is none. The scanned text removes them
 * (they usually split a word into other tokens), but one put where a space belongs glues the words
 * together for the guards ("Give\u200Bme\u200Bstep..." reads "Givemestep...") while the engine's
 * tokenizer keeps every word (a separator token between them). So this reading is scanned beside it
 * (prepareTexts.ts `#spaced`); a guard takes the max. Left to the removal, where they are ordinary
 * writing (ordinarySeparator): joiners and presentation selectors after an emoji, joiners inside a
 * word of a script that uses them (Arabic, Indic), zero-width spaces between words of a script
 * written without spaces (Thai, Khmer, Han, ...), where the glued reading is the natural one.
 */
const SEPARATOR = `${INVISIBLE.source}|${BIDI.source}|${CONTROL.source}|[\\u{E0000}-\\u{E007F}]`;
// Between two characters that are neither whitespace nor separators themselves (a run's end is not a visible character).
const SEPARATOR_RUN = new RegExp(`(?<=[\\s\\S])(?<!\\s|${SEPARATOR})(?:${SEPARATOR})+(?=[\\s\\S])(?!\\s|${SEPARATOR})`, 'gu');

/** Whether the text holds any character spacedSeparators may read as a space (a cheap test before the whole-text pass). */
export function hasSeparators(text: string): boolean {
  return SEPARATOR_CHAR.test(text);
}
const SEPARATOR_CHAR = new RegExp(SEPARATOR, 'u');

export function spacedSeparators(text: string): string | undefined {
  let found = false;
  const out = text.replace(SEPARATOR_RUN, (run: string, offset: number, whole: string) => {
    const after = String.fromCodePoint(whole.codePointAt(offset + run.length) ?? 32);
    if (ordinarySeparator(run, charBefore(whole, offset, false), charBefore(whole, offset, true), after)) return run;
    found = true;
    return ' ';
  });
  return found ? out : undefined;
}

/** Emoji and their parts: a skin tone, a keycap's digit, a flag's black flag. */
const EMOJI = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Emoji_Component}/u;
const VARIATION_SELECTORS = /^[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]+$/u;
const TAGS = /^[\u{E0020}-\u{E007F}]+$/u;
/** Scripts whose words take ZWJ/ZWNJ inside them (conjuncts, Persian half-spaces). */
const JOINING_SCRIPTS = ['Arabic', 'Syriac', 'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Hebrew'].map((name) => new RegExp(`^\\p{Script=${name}}$`, 'u'));
/** Scripts written without spaces between words, where a zero-width space marks a word break. */
const UNSPACED_SCRIPTS = ['Thai', 'Lao', 'Khmer', 'Myanmar', 'Tibetan', 'Han', 'Hiragana', 'Katakana'].map((name) => new RegExp(`^\\p{Script=${name}}$`, 'u'));
const JOINERS = new Set(['\u200C', '\u200D']);

/**
 * Whether a run is ordinary writing, not a space put out of sight: `before` is the character right
 * before it, `base` the letter under any marks there (a vowel sign before a Persian ZWNJ).
 */
function ordinarySeparator(run: string, before: string, base: string, after: string): boolean {
  const chars = [...run];
  // Emoji sequences: joiners, presentation selectors, keycaps, skin tones, subdivision flags (tags after a black flag).
  if (EMOJI.test(before) && (chars.every((ch) => ORDINARY_INVISIBLE.has(ch)) || TAGS.test(run))) return true;
  const sameScript = (scripts: RegExp[]) => scripts.some((script) => script.test(base) && script.test(after));
  // Ideographic variation selectors after a Han character (Japanese names).
  if (VARIATION_SELECTORS.test(run) && sameScript(UNSPACED_SCRIPTS)) return true;
  if (chars.every((ch) => JOINERS.has(ch)) && sameScript(JOINING_SCRIPTS)) return true;
  return chars.every((ch) => ch === '\u200B') && sameScript(UNSPACED_SCRIPTS);
}

/**
 * Marks looked through for the letter under them. Bounded: U+034F is both a separator and a mark,
 * so in "mark, U+034F, mark, U+034F, ..." every run walked back to the text's start (16 KB froze
 * the event loop for 7 s, time squared in the length); no real letter carries this many marks.
 */
const MAX_MARKS_BEFORE = 32;

/** The code point before `offset`; with `skipMarks`, the first one that is not a combining mark (' ' past MAX_MARKS_BEFORE). */
function charBefore(text: string, offset: number, skipMarks: boolean): string {
  let at = offset;
  for (let marks = 0; ; marks++) {
    if (at <= 0 || marks > MAX_MARKS_BEFORE) return ' ';
    const low = text.charCodeAt(at - 1);
    const size = at >= 2 && low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
    const ch = text.slice(at - size, at);
    if (!skipMarks || !/\p{M}/u.test(ch)) return ch;
    at -= size;
  }
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
