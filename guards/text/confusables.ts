/**
 * Look-alike characters and the ASCII letters they imitate, from Unicode TR39's confusables
 * (confusablesTable.ts, generated). Only what a scanner needs: a single non-ASCII character whose
 * TR39 prototype is one or two ASCII letters (Cyrillic `а` -> `a`, Greek `Ο` -> `O`, small
 * capital `ᴄ` -> `c`). NFKC already runs before this, so full-width and mathematical letters
 * never reach the table.
 */
import { CONFUSABLES_TABLE } from './confusablesTable';

const PROTOTYPES: ReadonlyMap<string, string> = new Map(
  CONFUSABLES_TABLE.split(' ').map((entry) => {
    const [hex, prototype] = entry.split(':');
    return [String.fromCodePoint(parseInt(hex, 16)), prototype];
  }),
);

/** Any character of the table (one regex test instead of a lookup per character). */
const ANY_CONFUSABLE = new RegExp(`[${[...PROTOTYPES.keys()].map((ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`).join('')}]`, 'u');

export function hasConfusable(text: string): boolean {
  return ANY_CONFUSABLE.test(text);
}

/** The ASCII letters `ch` (one code point) imitates, or undefined when it imitates none. */
export function asciiPrototype(ch: string): string | undefined {
  return PROTOTYPES.get(ch);
}

/**
 * Latin letters with an ASCII look-alike that living orthographies use as letters of their own
 * (Turkish dotless ı, French/Danish æ œ, Ewe ɣ ʋ, Khoisan clicks ǀ ǁ, Kabiye ɩ Ɩ): left alone in
 * the scanned text, so that ordinary writing in those languages is scanned as written; the
 * `#normalized` variant still maps them when it is built.
 */
const ORTHOGRAPHIC_LATIN = new Set(['ı', 'æ', 'Æ', 'œ', 'Œ', 'ɣ', 'ʋ', 'ǀ', 'ǁ', 'ɩ', 'Ɩ']);

export function isOrthographicLatin(ch: string): boolean {
  return ORTHOGRAPHIC_LATIN.has(ch);
}

/** Every character of `word` that has a prototype, mapped (used where the whole word is suspect). */
export function mapAllConfusables(word: string): string {
  let out = '';
  for (const ch of word) out += PROTOTYPES.get(ch) ?? ch;
  return out;
}

/** Table size, for tests and the docs. */
export function confusablesCount(): number {
  return PROTOTYPES.size;
}
