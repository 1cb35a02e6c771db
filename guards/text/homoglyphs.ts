/**
 * Maps look-alike letters onto the ASCII letters they imitate, in the text the model scores, but
 * only where a word is suspect, so that ordinary writing in any language is scanned as written:
 *
 * - a word that mixes Latin with another script (`іgnоrе` with Cyrillic і о е): every character
 *   with a TR39 prototype is mapped (finding `mixed_scripts`);
 * - a word written wholly in look-alikes of another script (`ехес`, all Cyrillic) inside mostly
 *   Latin text, or in a text that has mixed-script words: mapped when every letter of it has a
 *   prototype (a Russian word in English text usually has letters that imitate nothing, and stays);
 * - a Latin word with Latin-script look-alikes that no orthography uses as letters (IPA `ɑ ɡ`,
 *   small capitals `ᴄ ᴏ`): those letters are mapped.
 *
 * Finding `homoglyphs` when anything was mapped. Word-local, so slicing at whitespace gives the
 * same result as the whole text.
 */
import { asciiPrototype, hasConfusable, isOrthographicLatin, mapAllConfusables } from './confusables';
import { wordScripts } from './scripts';

const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const NON_ASCII = /[^\x00-\x7F]/;
const LETTER = /\p{L}/u;
/** Beyond ASCII and the Latin letter blocks: where another script (so a mixed word) can start. */
const BEYOND_LATIN = /[^\x00-\u024F\u1E00-\u1EFF]/;

export interface HomoglyphResult {
  text: string;
  mixedScripts: boolean;
  mapped: boolean;
}

/** Mostly Latin: at least twice as many ASCII letters as non-ASCII characters (a cheap count). */
export function isMostlyLatin(text: string): boolean {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) ascii++;
    else if (c >= 0x80 && (c < 0xdc00 || c > 0xdfff)) other++;
  }
  return ascii >= 2 * other;
}

/** The word with every letter mapped, or the word itself when some letter has no prototype. */
export function mapLookalikeWord(word: string): string {
  let out = '';
  for (const ch of word) {
    const p = asciiPrototype(ch);
    if (p !== undefined) out += p;
    else if (LETTER.test(ch)) return word;
    else out += ch;
  }
  return out;
}

/** Latin-script look-alikes that are not letters of a living orthography, mapped. */
export function mapLatinLookalikes(word: string): string {
  let out = '';
  for (const ch of word) {
    const p = ch.charCodeAt(0) < 0x80 || isOrthographicLatin(ch) ? undefined : asciiPrototype(ch);
    out += p ?? ch;
  }
  return out;
}

export function mapHomoglyphs(text: string): HomoglyphResult {
  // Fast paths: ASCII text, and Latin text (accents included) with no look-alike in it.
  if (!NON_ASCII.test(text) || (!BEYOND_LATIN.test(text) && !hasConfusable(text))) return { text, mixedScripts: false, mapped: false };
  const latinText = isMostlyLatin(text);
  let mixedScripts = false;
  let mapped = false;
  let lookalikeWordsLeft = false;
  let out = text.replace(WORD, (word) => {
    if (!NON_ASCII.test(word)) return word;
    const scripts = wordScripts(word);
    let next = word;
    if (scripts.latin && scripts.other) {
      mixedScripts = true;
      next = mapAllConfusables(word);
    } else if (scripts.other) {
      if (latinText) next = mapLookalikeWord(word);
      else lookalikeWordsLeft ||= mapLookalikeWord(word) !== word;
    } else if (scripts.latin && hasConfusable(word)) {
      next = mapLatinLookalikes(word);
    }
    if (next !== word) mapped = true;
    return next;
  });
  // Text swapped so thoroughly that it no longer counts as mostly Latin (`а bоmb`: the lone `а` is
  // Cyrillic): mixed words already show the attack, so its whole look-alike words are mapped too.
  if (mixedScripts && lookalikeWordsLeft) {
    out = out.replace(WORD, (word) => {
      if (!NON_ASCII.test(word)) return word;
      const scripts = wordScripts(word);
      return scripts.other && !scripts.latin ? mapLookalikeWord(word) : word;
    });
  }
  return { text: out, mixedScripts, mapped };
}
